// Command hookd-bench measures, in one run on one machine, side by side:
//
//   - network: plain signed HTTP POSTs from Go to a loopback receiver (the
//     network limit);
//   - floor: the cheapest workflow that makes one POST (one local activity,
//     eager start) on the same embedded Temporal server, client and worker
//     settings hookd uses (the engine floor);
//   - hookd: POST /v1/events → signed POST received, through hookd's real
//     API, worker and embedded Temporal server (app.Start in dev mode).
//
// Scenarios: (a) 1 endpoint, many events; (b) 1 event fanned out to 1,000
// endpoints; (c) 10,000 held deliveries released by unpause; (d) the
// deliveries list route over 1,000,000 attempts in PostgreSQL. Results are
// printed as Markdown tables on stdout; progress goes to stderr.
//
//	go run ./cmd/hookd-bench                      # everything (about 25 minutes)
//	go run ./cmd/hookd-bench -smoke               # a few seconds, small counts (CI)
//	go run ./cmd/hookd-bench -scenarios a -systems hookd -cpuprofile cpu.out
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/config"
)

type options struct {
	duration    time.Duration
	rounds      int
	concurrency int
	scenarios   []string
	systems     []string
	smoke       bool
	dsn         string
	fanout      int
	fanoutRuns  int
	held        int
	attempts    int
	listRounds  int
	timeout     time.Duration
	cpuprofile  string
	hookdLog    string
	explain     bool
	keepSchema  bool
	batches     []int
	pruneShare  float64
}

// bench is one run: the receiver, hookd (whose embedded Temporal server the
// floor shares) and the results.
type bench struct {
	opt     options
	runID   string
	started time.Time

	recv        *receiver
	deliverHTTP *http.Client // network and floor POSTs: hookd's delivery client settings
	hookd       *app.App
	api         *apiClient
	temporal    client.Client
	floorWorker sdkworker.Worker
	dataDir     string
	logFile     *os.File

	windows int // closed-loop windows run so far

	a      []loadResult
	b      []fanResult
	c      []heldResult
	d      *dResult
	failed bool
}

func main() {
	os.Exit(run())
}

func run() int {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opt: o, runID: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff), started: time.Now()}
	heap := watchHeap()
	defer close(heap.stop)

	printHeader(o)
	if err := b.setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench:", err)
		b.teardown()
		return 1
	}
	defer b.teardown()

	stopProfile, err := startCPUProfile(o.cpuprofile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench:", err)
		return 1
	}
	defer stopProfile()

	use := b.runScenarios(ctx, heap)
	b.printProcess(use, heap)
	return b.exitCode(ctx)
}

// parseOptions reads the flags: with -smoke, the small counts stand in for
// the defaults of the flags not given; unknown scenarios or systems and
// non-positive counts are errors.
func parseOptions() (options, error) {
	var o options
	var scenarios, systems string
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measurement window of each throughput/latency run in scenario (a), after a warm-up of min(duration/5, 2s)")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds of scenario (a): each runs every system once, in alternating order, and the windows are pooled")
	flag.IntVar(&o.concurrency, "concurrency", 32, "publishers under load, each with one event in flight; also the parallelism of scenario (c)'s ingest and release")
	flag.StringVar(&scenarios, "scenarios", "a,b,c,d", "scenarios to run: a (1 endpoint, many events), b (fan-out), c (held, released by unpause), d (list on PostgreSQL)")
	flag.StringVar(&systems, "systems", "network,floor,hookd", "systems to measure in scenarios a–c")
	flag.BoolVar(&o.smoke, "smoke", false, "a few seconds in all, small counts (CI smoke check); flags given explicitly still win")
	flag.StringVar(&o.dsn, "dsn", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL for scenario (d); skipped if it does not answer")
	flag.IntVar(&o.fanout, "fanout", 1000, "endpoints of scenario (b)")
	flag.IntVar(&o.fanoutRuns, "fanout-runs", 3, "repetitions of scenario (b) per system")
	flag.IntVar(&o.held, "held", 10000, "held deliveries of scenario (c)")
	flag.IntVar(&o.attempts, "attempts", 1000000, "attempts stored for scenario (d)")
	flag.IntVar(&o.listRounds, "list-rounds", 50, "rounds of list requests in scenario (d)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for one receipt before counting it lost")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the scenarios (not of start-up) to this file")
	flag.StringVar(&o.hookdLog, "hookd-log", "", "write hookd's logs (JSON, info) to this file; by default they are formatted and discarded")
	flag.BoolVar(&o.explain, "explain", false, "print PostgreSQL's plans of the list queries in scenario (d)")
	flag.BoolVar(&o.keepSchema, "keep-schema", false, "keep scenario (d)'s PostgreSQL schema")
	batches := flag.String("batches", "10,100", "scenario (a) with POST /v1/events/batch: events per request, comma-separated, at most 100 (hookd only; \"\" for none)")
	flag.Float64Var(&o.pruneShare, "prune-share", 0, "scenario (d): after the list, prune this share (0–1) of the deliveries, the oldest, as retention's Prune does, and list again; 0: no prune")
	flag.Parse()
	var err error
	if o.batches, err = parseBatches(*batches); err != nil {
		return o, err
	}
	if o.smoke {
		o.applySmokeDefaults()
	}
	o.scenarios = split(scenarios)
	o.systems = split(systems)
	return o, o.validate()
}

// applySmokeDefaults sets the smoke run's small counts on every flag not
// given explicitly.
func (o *options) applySmokeDefaults() {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	def("duration", func() { o.duration = time.Second })
	def("rounds", func() { o.rounds = 1 })
	def("fanout", func() { o.fanout = 20 })
	def("fanout-runs", func() { o.fanoutRuns = 1 })
	def("held", func() { o.held = 20 })
	def("attempts", func() { o.attempts = 20000 })
	def("list-rounds", func() { o.listRounds = 3 })
	def("prune-share", func() { o.pruneShare = 0.7 })
	def("timeout", func() { o.timeout = 10 * time.Second })
	def("batches", func() { o.batches = []int{10} })
}

// parseBatches reads -batches: sizes from 1 to 100, comma-separated.
func parseBatches(s string) ([]int, error) {
	var out []int
	for _, f := range split(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 100 {
			return nil, fmt.Errorf("-batches: %q is not a size from 1 to 100", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (o *options) validate() error {
	for _, s := range o.scenarios {
		if !slices.Contains([]string{"a", "b", "c", "d"}, s) {
			return fmt.Errorf("unknown scenario %q (a, b, c, d)", s)
		}
	}
	for _, s := range o.systems {
		if !slices.Contains([]string{"network", "floor", "hookd"}, s) {
			return fmt.Errorf("unknown system %q (network, floor, hookd)", s)
		}
	}
	if o.pruneShare < 0 || o.pruneShare > 1 {
		return errors.New("-prune-share must be from 0 to 1")
	}
	if o.concurrency < 1 || o.duration <= 0 || o.fanout < 1 || o.held < 1 || o.fanoutRuns < 1 || o.rounds < 1 {
		return errors.New("-concurrency, -duration, -rounds, -fanout, -fanout-runs and -held must be positive")
	}
	return nil
}

// printHeader prints the report's title, the smoke notice, the machine and
// the settings.
func printHeader(o options) {
	fmt.Printf("# hookd-bench %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if o.smoke {
		fmt.Print("This is a smoke run: it checks only that every scenario runs end to end and loses nothing.\n" +
			"Its figures come from runs of a second or so and are not measurements; BENCHMARKS.md has those (make bench).\n\n")
	}
	fmt.Printf("machine: %s\n\n", machineLine())
	fmt.Printf("settings: -scenarios %s -systems %s -concurrency %d -duration %s -rounds %d -batches %s -fanout %d×%d -held %d -attempts %d%s\n\n",
		strings.Join(o.scenarios, ","), strings.Join(o.systems, ","), o.concurrency, o.duration, o.rounds,
		strings.Trim(strings.Join(strings.Fields(fmt.Sprint(o.batches)), ","), "[]"), o.fanout, o.fanoutRuns,
		o.held, o.attempts, map[bool]string{true: " (smoke)"}[o.smoke])
}

// startCPUProfile starts writing a CPU profile to path (nothing when path is
// empty) and returns the function that stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// runScenarios runs the selected scenarios in order until ctx ends, and
// returns the CPU they used.
func (b *bench) runScenarios(ctx context.Context, heap *heapWatch) cpuUse {
	whole := snapCPU()
	for _, s := range b.opt.scenarios {
		if ctx.Err() != nil {
			break
		}
		switch s {
		case "a":
			b.scenarioA(ctx)
		case "b":
			b.scenarioB(ctx)
		case "c":
			b.scenarioC(ctx)
		case "d":
			b.scenarioD(ctx)
		}
		b.progress("memory after (%s): %s", s, memoryLine(heap))
	}
	return whole.until(snapCPU())
}

// printProcess prints the process section: memory, CPU, what the receiver
// refused, total time. A bad signature or body fails the run.
func (b *bench) printProcess(use cpuUse, heap *heapWatch) {
	fmt.Printf("## process\n\n")
	fmt.Printf("- memory: %s\n", memoryLine(heap))
	fmt.Printf("- CPU over the scenarios: %s over %s; load average now %s\n",
		use, use.wall.Truncate(time.Second), loadavg())
	fmt.Printf("- receiver: %d bad signatures, %d unreadable bodies, %d unexpected and %d duplicate receipts\n",
		b.recv.badSig.Load(), b.recv.badBody.Load(), b.recv.tracker.unexpected.Load(), b.recv.tracker.duplicates.Load())
	fmt.Printf("- total time %s\n", time.Since(b.started).Truncate(100*time.Millisecond))
	if b.recv.badSig.Load() > 0 || b.recv.badBody.Load() > 0 {
		b.failed = true
	}
}

// exitCode is 1 when the run was interrupted or something failed, else 0.
func (b *bench) exitCode(ctx context.Context) int {
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench: interrupted")
		return 1
	}
	if b.failed {
		fmt.Fprintln(os.Stderr, "hookd-bench: some deliveries were lost, refused or mis-signed; see above")
		return 1
	}
	return 0
}

func split(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// systems returns the systems selected with -systems, in a fixed order.
func (b *bench) systems() []system {
	var out []system
	for _, s := range []system{networkSys{b}, floorSys{b}, hookdSys{b}} {
		if slices.Contains(b.opt.systems, s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

// setup starts the receiver and, when a scenario needs it, hookd in dev mode
// (temp data dir, free ports, no UI) and the floor's worker on hookd's
// Temporal client.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.recv, err = startReceiver(); err != nil {
		return fmt.Errorf("start receiver: %w", err)
	}
	b.deliverHTTP = activities.NewHTTPClient(activities.TargetPolicy{AllowPrivate: true})
	needsHookd := slices.ContainsFunc(b.opt.scenarios, func(s string) bool { return s != "d" }) &&
		slices.ContainsFunc(b.opt.systems, func(s string) bool { return s != "network" })
	if !needsHookd {
		return nil
	}

	if b.dataDir, err = os.MkdirTemp("", "hookd-bench-"); err != nil {
		return err
	}
	key := "hookd-bench-key-" + b.runID
	cfg, err := config.Load(config.ModeDev, []string{
		"HOOKD_API_ADDR=127.0.0.1:0",
		"HOOKD_TEMPORAL_ADDRESS=127.0.0.1:0",
		"HOOKD_TEMPORAL_UI_PORT=-1",
		"HOOKD_DATA_DIR=" + b.dataDir,
		"HOOKD_API_KEY=" + key,
	})
	if err != nil {
		return err
	}
	// hookd logs every attempt at info: keep that cost in the measurement,
	// but not on the terminal.
	out := io.Discard
	if b.opt.hookdLog != "" {
		if b.logFile, err = os.Create(b.opt.hookdLog); err != nil {
			return err
		}
		out = b.logFile
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if b.hookd, err = app.Start(sctx, cfg, log); err != nil {
		return fmt.Errorf("start hookd: %w", err)
	}
	b.temporal = b.hookd.Temporal
	b.api = newAPIClient(b.hookd.APIURL, key, 2*b.opt.concurrency+16)
	b.progress("hookd dev started in %s: API %s, Temporal %s, data %s", ms(time.Since(t0)),
		b.hookd.APIURL, b.hookd.Config.TemporalAddress, b.dataDir)
	if slices.Contains(b.opt.systems, "floor") {
		if b.floorWorker, err = startFloorWorker(b.temporal, b.deliverHTTP); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) teardown() {
	if b.floorWorker != nil {
		b.floorWorker.Stop()
	}
	if b.hookd != nil {
		b.hookd.Stop(context.Background())
	}
	if b.recv != nil {
		b.recv.Close()
	}
	if b.logFile != nil {
		_ = b.logFile.Close()
	}
	if b.dataDir != "" {
		_ = os.RemoveAll(b.dataDir)
	}
}
