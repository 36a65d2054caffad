// Command hookd-faults is the fault test of the production topology
// (scripts/topology.sh: two PostgreSQL instances of its own, one for
// Temporal's persistence and one for hookd's database, a Temporal server, an
// api and two workers, all on free loopback ports). While events flow to
// loopback receivers (plain ones; ones that fail the first attempt of each
// event; one answering binary bodies with NUL bytes; one that hangs past the
// endpoint's attempt timeout on the first attempt) it:
//
//   - kills worker1 with SIGKILL while worker1 itself holds attempts in flight,
//   - kills the api with SIGKILL right after it answered 2xx,
//   - kills the Temporal server with SIGKILL and starts it again,
//   - stops hookd's PostgreSQL instance (immediate: connections refused) for
//     -outage while Temporal stays up, with deliveries waiting between retries,
//   - stops both PostgreSQL instances (Temporal's and hookd's: the whole
//     database tier) for -outage.
//
// Then it checks that every accepted event reached every endpoint at least
// once, and reports events, deliveries, duplicates and losses, per kind of
// receiver. It exits 1 on any loss, and stops every process it started (the
// PostgreSQL instances included) on every exit path (failure, timeout,
// Ctrl-C). It never touches a process, server or port it did not start.
//
// Run it with `make faults` (which first runs scripts/topology.sh setup).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cleanups run, once, on every exit path: the normal end, fatalf and signals.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
	exitOnce  sync.Once
)

func onExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

// exit runs the cleanups (last registered first) and exits with code. Only
// the first caller runs them; a concurrent caller blocks until it exits.
func exit(code int) {
	exitOnce.Do(func() {
		cleanupMu.Lock()
		fs := append([]func(){}, cleanups...)
		cleanupMu.Unlock()
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
		os.Exit(code)
	})
	select {} // another goroutine is exiting
}

// fatalf replaces log.Fatalf, which would skip the cleanups.
func fatalf(format string, args ...any) {
	log.Printf("FATAL: "+format, args...)
	exit(1)
}

// The kinds of receiver, one endpoint each except plain (-endpoints of them).
const (
	plain   = "plain"   // 200 after 50ms
	flaky   = "flaky"   // 500 on the first attempt of each event, then 200
	binary  = "binary"  // 500 then 200, both with a binary body full of NUL bytes
	hanging = "hanging" // the first attempt of each event hangs past the endpoint's timeout, then 200
)

// binaryBody is what the binary receiver answers: not UTF-8, NUL bytes.
var binaryBody = []byte("\x00\xff\xfe\x00binary\x00\x80\x81\xc3\x28\x00")

// hangingTimeout is the hanging endpoint's attempt timeout; its receiver
// holds a first attempt for hangFor, well past it.
const (
	hangingTimeout = "2s"
	hangFor        = 8 * time.Second
)

// retriedSchedule is the retry schedule of the endpoints whose receivers
// fail first attempts: short, so deliveries are always waiting between
// retries, and no gap over 30s, so a minute and a half without progress
// means nothing more will come.
var retriedSchedule = []string{"10s", "20s", "30s", "30s", "30s", "30s", "30s", "30s", "30s", "30s"}

// faultOptions are the command's flags.
type faultOptions struct {
	dir, bin  string
	endpoints int
	rate      int
	outage    time.Duration
	afterLast int
	wait      time.Duration
	stall     time.Duration
}

func parseFaultOptions() faultOptions {
	var o faultOptions
	flag.StringVar(&o.dir, "dir", ".topology", "the topology dir made by scripts/topology.sh setup")
	flag.StringVar(&o.bin, "bin", "bin", "where hookd and temporal-server are")
	flag.IntVar(&o.endpoints, "endpoints", 3, "plain endpoints (each gets every event), besides one flaky, one binary and one hanging")
	flag.IntVar(&o.rate, "rate", 3, "events published per second")
	flag.DurationVar(&o.outage, "outage", 3*time.Minute, "how long each PostgreSQL outage lasts")
	flag.IntVar(&o.afterLast, "after-faults", 20, "events that must be accepted after the last fault before publishing stops")
	flag.DurationVar(&o.wait, "wait", 5*time.Minute, "how long to wait at most for every delivery after publishing")
	flag.DurationVar(&o.stall, "stall", 150*time.Second, "stop waiting when no missing delivery arrived for this long (over the reconciler's 1 min grace + 30 s pass)")
	flag.Parse()
	return o
}

// faultTest is one run: the topology it started, the receivers and
// endpoints, the publisher, and what it saw.
type faultTest struct {
	opt   faultOptions
	began time.Time

	dir, bin       string // absolute
	temporalAddr   string
	worker1Metrics string
	worker2Metrics string

	t           *topology
	kinds       []string // the kind of each receiver, by index
	endpointIDs []string // the endpoint of each receiver, by index
	rcv         *receivers
	pub         *publisher

	// worker1's attempts in flight when it was killed, of all in flight.
	mine, all int
}

func main() {
	o := parseFaultOptions()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	f := &faultTest{opt: o, began: time.Now()}
	exitOnSignal()

	f.readTopology()
	f.startTopology()
	f.createEndpoints()
	f.startPublishing()

	f.killWorker1WithAttemptsInFlight() // fault 1
	f.killAPIAfter2xx()                 // fault 2
	f.restartTemporal()                 // fault 3
	// Fault 4: hookd's own database down, Temporal's up.
	f.pgOutage("hookd's PostgreSQL (Temporal's stays up)", "hookd")
	f.pub.setPhase("after hookd's database came back")
	f.pub.waitAccepted("after hookd's database came back", 5, 3*time.Minute)
	f.rcv.waitDelivered("after hookd's database came back", 10, 3*time.Minute)
	// Fault 5: all of PostgreSQL down (Temporal's instance and hookd's).
	f.pgOutage("both PostgreSQL instances", "hookd", "temporal")
	f.pub.setPhase("after the faults")

	f.stopPublishing()
	ids := f.pub.ids()
	f.waitForDeliveries(ids)
	exit(f.report(ids))
}

// exitOnSignal exits, through the cleanups, on SIGINT or SIGTERM.
func exitOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fatalf("got %s", s)
	}()
}

// readTopology reads the addresses scripts/topology.sh setup chose and the
// api key, and fails if one of the addresses is taken already.
func (f *faultTest) readTopology() {
	f.dir, _ = filepath.Abs(f.opt.dir)
	f.bin, _ = filepath.Abs(f.opt.bin)
	te := readTopologyEnv(f.dir)
	if te["TOPOLOGY_OWN_PG"] != "1" {
		fatalf("the fault test stops and starts PostgreSQL: it runs only on the instances scripts/topology.sh setup makes (unset TOPOLOGY_PG)")
	}
	apiAddr = te["TOPOLOGY_API_ADDR"]
	key = apiKey(f.dir)
	f.temporalAddr = te["TOPOLOGY_TEMPORAL_ADDR"]
	f.worker1Metrics, f.worker2Metrics = te["TOPOLOGY_WORKER1_METRICS_ADDR"], te["TOPOLOGY_WORKER2_METRICS_ADDR"]
	for _, addr := range []string{f.temporalAddr, apiAddr, f.worker1Metrics, f.worker2Metrics,
		"127.0.0.1:" + te["TOPOLOGY_PG_TEMPORAL_PORT"], "127.0.0.1:" + te["TOPOLOGY_PG_HOOKD_PORT"]} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			fatalf("%s is already in use (taken since scripts/topology.sh setup picked it?); run make faults again", addr)
		}
	}
}

// startTopology starts both PostgreSQL instances, the Temporal server, two
// workers and the api, and waits until the api answers.
func (f *faultTest) startTopology() {
	scriptAbs, _ := filepath.Abs("scripts/topology.sh")
	f.t = &topology{dir: f.dir, bin: f.bin, script: scriptAbs, procs: map[string]*proc{}}
	onExit(f.t.stopAll)
	f.t.pg("start", "temporal")
	f.t.pg("start", "hookd")
	f.startTemporal()
	f.t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR="+f.worker1Metrics)
	f.t.startHookd("worker2", "worker", "HOOKD_METRICS_ADDR="+f.worker2Metrics)
	f.t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)
	waitHTTP("http://"+apiAddr+"/healthz", 2*time.Minute)
}

// startTemporal starts the Temporal server and waits for its port.
func (f *faultTest) startTemporal() {
	args := []string{"--root", f.dir, "--config", "config", "--env", "development-postgres12", "--allow-no-auth", "start"}
	f.t.start("temporal", filepath.Join(f.bin, "temporal-server"), args...)
	waitPort(f.temporalAddr, 2*time.Minute)
}

// createEndpoints starts the receivers, -endpoints plain ones and one of each
// other kind, and creates an endpoint for each.
func (f *faultTest) createEndpoints() {
	for range f.opt.endpoints {
		f.kinds = append(f.kinds, plain)
	}
	f.kinds = append(f.kinds, flaky, binary, hanging)
	f.rcv = newReceivers(f.kinds)
	onExit(f.rcv.close)
	f.endpointIDs = make([]string, len(f.kinds))
	for i, k := range f.kinds {
		f.endpointIDs[i] = createEndpoint(k, f.rcv.urls[i])
	}
}

// createEndpoint creates the endpoint of a receiver of kind k at url and
// returns its id.
func createEndpoint(k, url string) string {
	ep := map[string]any{"url": url, "tenant_id": "faults", "description": k,
		"retry_schedule": []string{"1s", "2s", "5s", "10s", "30s"}}
	if k != plain {
		// Failed first attempts would pause them at the default threshold.
		ep["retry_schedule"], ep["pause_threshold"] = retriedSchedule, 10000
	}
	if k == hanging {
		ep["timeout"] = hangingTimeout
	}
	status, body := call("POST", "/v1/endpoints", "", ep)
	if status != http.StatusCreated {
		fatalf("create %s endpoint: %d %s", k, status, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(body, &created)
	return created.ID
}

// startPublishing publishes until told to stop; a client retries a request
// with the same key until it gets a 2xx, so every key published ends up
// accepted.
func (f *faultTest) startPublishing() {
	f.pub = &publisher{rate: f.opt.rate, answered: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	f.pub.setPhase("before the faults")
	go f.pub.run()
}

// killWorker1WithAttemptsInFlight is fault 1: SIGKILL worker1 while worker1
// itself holds attempts in flight. The receivers hold every request they
// get until released, and an attempt is worker1's when the client end of
// its connection is a socket of worker1's process (/proc/<pid>/fd against
// /proc/net/tcp).
func (f *faultTest) killWorker1WithAttemptsInFlight() {
	time.Sleep(3 * time.Second)
	release := f.rcv.hold()
	waitFor("worker1 to hold an attempt in flight", time.Minute, func() bool {
		f.mine, f.all = f.rcv.inFlightOf(f.t.pid("worker1"))
		return f.mine > 0
	})
	log.Printf("fault: kill -9 worker1 (pid %d) holding %d of the %d attempts in flight", f.t.pid("worker1"), f.mine, f.all)
	f.t.kill("worker1")
	time.Sleep(300 * time.Millisecond) // let the receivers see worker1's connections close
	release()
	f.t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR="+f.worker1Metrics)
}

// killAPIAfter2xx is fault 2: SIGKILL the api right after it answered a 2xx.
func (f *faultTest) killAPIAfter2xx() {
	time.Sleep(2 * time.Second)
	for len(f.pub.answered) > 0 {
		<-f.pub.answered
	}
	select {
	case <-f.pub.answered:
	case <-time.After(time.Minute):
		fatalf("the api answered no 2xx within a minute")
	}
	log.Printf("fault: kill -9 api right after a 2xx (%d accepted so far)", f.pub.acceptedN.Load())
	f.t.kill("api")
	time.Sleep(time.Second)
	f.t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)
}

// restartTemporal is fault 3: SIGKILL the Temporal server, start it again
// 5s later, and wait until events are accepted and delivered again.
func (f *faultTest) restartTemporal() {
	time.Sleep(3 * time.Second)
	log.Printf("fault: kill -9 the Temporal server (%d accepted so far, publishing goes on)", f.pub.acceptedN.Load())
	f.pub.setPhase("Temporal killed")
	f.t.kill("temporal")
	time.Sleep(5 * time.Second)
	f.startTemporal()
	log.Printf("fault: Temporal server is back")
	f.pub.setPhase("after the Temporal restart")
	f.pub.waitAccepted("after the Temporal restart", 5, 3*time.Minute)
	f.rcv.waitDelivered("after the Temporal restart", 10, 3*time.Minute)
}

// pgOutage stops PostgreSQL instances for -outage while deliveries wait
// between retries (their retries come due during the outage), then starts
// them again.
func (f *faultTest) pgOutage(what string, names ...string) {
	waitFor("deliveries waiting between retries", 2*time.Minute, func() bool { return f.rcv.waiting() >= 10 })
	log.Printf("fault: stop %s for %s (%d accepted so far, %d deliveries waiting between retries)",
		what, f.opt.outage, f.pub.acceptedN.Load(), f.rcv.waiting())
	f.pub.setPhase(what + " down")
	for _, name := range names {
		f.t.pg("stop", name)
	}
	time.Sleep(f.opt.outage)
	for i := len(names) - 1; i >= 0; i-- {
		f.t.pg("start", names[i])
	}
	log.Printf("fault: %s back", what)
}

// stopPublishing keeps publishing until enough events were accepted after
// the last fault, then stops.
func (f *faultTest) stopPublishing() {
	f.pub.waitAccepted("after the faults", int64(f.opt.afterLast), 4*time.Minute)
	close(f.pub.stop)
	select {
	case <-f.pub.done:
	case <-time.After(2 * time.Minute):
		fatalf("publishing did not end 2 minutes after it was told to stop")
	}
	log.Printf("published: %d events accepted; waiting for their deliveries", f.pub.acceptedN.Load())
}

// waitForDeliveries waits until every event of ids reached every receiver,
// for at most -wait, and gives up earlier when no missing delivery arrived
// for -stall.
func (f *faultTest) waitForDeliveries(ids []string) {
	missing := func() int {
		n := 0
		for _, id := range ids {
			for i := range f.kinds {
				if f.rcv.count(i, id) == 0 {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(f.opt.wait)
	lost, progressed := missing(), time.Now()
	for lost > 0 && time.Now().Before(deadline) && time.Since(progressed) < f.opt.stall {
		time.Sleep(time.Second)
		if n := missing(); n < lost {
			lost, progressed = n, time.Now()
		}
	}
}

// report prints what the run saw and returns the exit code: 1 if an
// accepted event did not reach every endpoint, or if the keys published and
// the events accepted disagree.
func (f *faultTest) report(ids []string) int {
	fmt.Printf("worker1 attempts in flight when killed: %d (of %d at the receivers)\n", f.mine, f.all)
	fmt.Printf("requests the sender gave up on (killed, or timed out at the hanging receiver): %d\n", f.rcv.aborted.Load())
	fmt.Printf("processes that exited unbidden (restarted, as a supervisor would): %s\n", f.t.unbidden())
	fmt.Println("events accepted by phase:")
	for _, ph := range f.pub.phases() {
		fmt.Printf("  %-48s %d\n", ph.name, ph.n)
	}
	expected, delivered, dups := f.printReceiverTable(ids)
	if delivered < expected {
		fmt.Println("what hookd's API says of the lost deliveries (status, last error):")
		explainLost(f.kinds, f.endpointIDs, ids, f.rcv)
	}
	fmt.Printf("events accepted: %d\ndeliveries expected: %d\ndelivered: %d\nduplicates: %d\nlost: %d\nruntime: %s\n",
		len(ids), expected, delivered, dups, expected-delivered, time.Since(f.began).Round(time.Second))
	switch {
	case expected-delivered > 0:
		fmt.Println("FAIL: not every accepted event reached every endpoint")
		return 1
	case int64(len(ids)) != f.pub.keys.Load():
		fmt.Printf("FAIL: %d idempotency keys published but %d distinct events accepted\n", f.pub.keys.Load(), len(ids))
		return 1
	}
	fmt.Println("PASS: nothing accepted was lost")
	return 0
}

// printReceiverTable prints, per kind of receiver, the deliveries of ids
// expected, delivered, duplicated and lost, and returns the totals.
func (f *faultTest) printReceiverTable(ids []string) (expected, delivered, dups int) {
	fmt.Printf("%-8s %9s %9s %10s %6s\n", "receiver", "expected", "delivered", "duplicates", "lost")
	for _, k := range []string{plain, flaky, binary, hanging} {
		var e, d, dup, l int
		for i, ki := range f.kinds {
			if ki != k {
				continue
			}
			for _, id := range ids {
				e++
				if c := f.rcv.count(i, id); c > 0 {
					d++
					dup += c - 1
				} else {
					l++
				}
			}
		}
		fmt.Printf("%-8s %9d %9d %10d %6d\n", k, e, d, dup, l)
		expected, delivered, dups = expected+e, delivered+d, dups+dup
	}
	return expected, delivered, dups
}

// explainLost prints, per kind of receiver, the stored status of the
// deliveries that never reached it, with one last error for each status
// (at most 300 lookups).
func explainLost(kinds, endpointIDs, ids []string, rcv *receivers) {
	type key struct{ kind, status string }
	counts, examples := map[key]int{}, map[key]string{}
	lookups := 0
	for i, kind := range kinds {
		for _, id := range ids {
			if rcv.count(i, id) > 0 || lookups >= 300 {
				continue
			}
			lookups++
			st, body := call("GET", "/v1/deliveries?event_id="+id+"&endpoint_id="+endpointIDs[i], "", nil)
			var page struct {
				Data []struct {
					Status       string `json:"status"`
					AttemptCount int    `json:"attempt_count"`
					LastError    string `json:"last_error"`
				} `json:"data"`
			}
			k := key{kind, fmt.Sprintf("answer %d", st)}
			if st == http.StatusOK && json.Unmarshal(body, &page) == nil && len(page.Data) == 1 {
				d := page.Data[0]
				k.status = d.Status
				if examples[k] == "" {
					examples[k] = fmt.Sprintf("%d attempts; %s", d.AttemptCount, d.LastError)
				}
			}
			counts[k]++
		}
	}
	for k, n := range counts {
		fmt.Printf("  %-8s %-10s %4d  e.g. %.160s\n", k.kind, k.status, n, examples[k])
	}
}

// apiAddr and key are the topology's API address and key.
var apiAddr, key string

// publisher posts events at a fixed rate until stop is closed.
type publisher struct {
	rate      int
	accepted  sync.Map // event id -> true
	acceptedN atomic.Int64
	keys      atomic.Int64  // idempotency keys published
	answered  chan struct{} // a 2xx just came
	stop      chan struct{} // closed: publish no new key
	done      chan struct{} // closed when the last key was accepted

	mu      sync.Mutex
	phase   string           // what is going on; events accepted are counted by it
	order   []string         // phases in the order they began
	byPhase map[string]int64 // events accepted in each phase (by when the 2xx came)
}

type phaseCount struct {
	name string
	n    int64
}

func (p *publisher) setPhase(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byPhase == nil {
		p.byPhase = map[string]int64{}
	}
	p.phase = name
	p.order = append(p.order, name)
}

func (p *publisher) phases() []phaseCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []phaseCount{}
	for _, name := range p.order {
		out = append(out, phaseCount{name, p.byPhase[name]})
	}
	return out
}

// waitAccepted waits until n events were accepted in phase.
func (p *publisher) waitAccepted(phase string, n int64, d time.Duration) {
	waitFor(fmt.Sprintf("%d events accepted %s", n, phase), d, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.byPhase[phase] >= n
	})
}

func (p *publisher) run() {
	defer close(p.done)
	tick := time.NewTicker(time.Second / time.Duration(p.rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.keys.Add(1)
		key := fmt.Sprintf("faults-%d", i)
		for {
			status, body := call("POST", "/v1/events", key, map[string]any{"type": "fault.test", "tenant_id": "faults", "payload": map[string]any{"i": i}})
			if status == http.StatusAccepted {
				var ev struct{ ID string }
				_ = json.Unmarshal(body, &ev)
				if ev.ID == "" {
					fatalf("202 without an event id: %s", body)
				}
				if _, seen := p.accepted.LoadOrStore(ev.ID, true); !seen {
					p.acceptedN.Add(1)
					p.mu.Lock()
					p.byPhase[p.phase]++
					p.mu.Unlock()
				}
				select {
				case p.answered <- struct{}{}:
				default:
				}
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (p *publisher) ids() []string {
	ids := []string{}
	p.accepted.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	return ids
}

// readTopologyEnv reads the ports and names scripts/topology.sh setup chose.
func readTopologyEnv(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "topology.env"))
	if err != nil {
		fatalf("%v (run scripts/topology.sh setup first)", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// script runs scripts/topology.sh with args on the topology in dir.
func script(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{"scripts/topology.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "TOPOLOGY_DIR="+dir)
	return cmd
}

// apiKey is the key `scripts/topology.sh env` gives the api.
func apiKey(dir string) string {
	out, err := script(dir, "env").Output()
	if err != nil {
		fatalf("scripts/topology.sh env: %v", err)
	}
	for _, kv := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(kv, "HOOKD_API_KEY="); ok {
			return v
		}
	}
	fatalf("scripts/topology.sh env gives no HOOKD_API_KEY")
	return ""
}

func call(method, path, idemKey string, body any) (int, []byte) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+apiAddr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// topology holds the processes it started, by name. A process that exits
// without being killed by the test is started again a second later, as a
// supervisor (systemd, Kubernetes) would, and reported.
type topology struct {
	dir, bin string
	script   string // scripts/topology.sh, absolute
	mu       sync.Mutex
	procs    map[string]*proc // the current process of each name
	all      []*proc          // every process ever started
	exits    []string         // unbidden exits: "name (status)"
	stopping bool
	pgUp     map[string]bool // PostgreSQL instances this run started
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	killed atomic.Bool   // the test killed it
	done   chan struct{} // closed when it exited
}

// start starts name: path with args, in the topology dir, with this
// process's environment (hookd's own comes through scripts/topology.sh run).
// Once stopAll began, it starts nothing.
func (t *topology) start(name, path string, args ...string) {
	f, err := os.OpenFile(filepath.Join(t.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fatalf("%v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), "TOPOLOGY_DIR="+t.dir)
	if path == "bash" {
		cmd.Env = append(cmd.Env, "HOOKD_FAULTS_STRAY=kept-from-hookd-by-the-script")
	}
	cmd.Stdout, cmd.Stderr = f, f
	t.mu.Lock()
	if t.stopping {
		t.mu.Unlock()
		f.Close()
		return
	}
	if err := cmd.Start(); err != nil {
		t.mu.Unlock()
		f.Close()
		fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	t.procs[name] = p
	t.all = append(t.all, p)
	t.mu.Unlock()
	go func() {
		err := cmd.Wait()
		f.Close()
		close(p.done)
		t.mu.Lock()
		restart := !p.killed.Load() && !t.stopping
		if restart {
			t.exits = append(t.exits, fmt.Sprintf("%s (%v)", name, err))
		}
		t.mu.Unlock()
		if restart {
			log.Printf("%s exited unbidden (%v); starting it again", name, err)
			time.Sleep(time.Second)
			t.start(name, path, args...)
		}
	}()
}

// startHookd starts bin/hookd mode through `scripts/topology.sh run`, the
// way `make topology` does, with a stray HOOKD_ variable in its caller's
// environment: the script must keep it from hookd, which would refuse to
// start on it.
func (t *topology) startHookd(name, mode string, env ...string) {
	t.start(name, "bash", append([]string{t.script, "run", mode}, env...)...)
}

func (t *topology) pid(name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs[name].cmd.Process.Pid
}

// kill SIGKILLs name and waits until it is gone.
func (t *topology) kill(name string) {
	t.mu.Lock()
	p := t.procs[name]
	t.mu.Unlock()
	p.killed.Store(true)
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (t *topology) unbidden() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.exits) == 0 {
		return "none"
	}
	return strings.Join(t.exits, ", ")
}

// pg starts or stops (immediate: connections are refused at once) one of
// the topology's own PostgreSQL instances, "temporal" or "hookd".
func (t *topology) pg(action, name string) {
	if out, err := script(t.dir, "pg", action, name).CombinedOutput(); err != nil {
		fatalf("pg %s %s: %v %s", action, name, err, out)
	}
	t.mu.Lock()
	if t.pgUp == nil {
		t.pgUp = map[string]bool{}
	}
	t.pgUp[name] = action == "start"
	t.mu.Unlock()
}

// stopAll interrupts every process still running (hookd first, the Temporal
// server next), waits up to 15s for them, SIGKILLs what is left and waits
// for it to be gone, then stops the PostgreSQL instances this run started,
// so that no port stays taken.
func (t *topology) stopAll() {
	t.mu.Lock()
	t.stopping = true
	procs := append([]*proc{}, t.all...)
	t.mu.Unlock()
	stop := func(ps []*proc) {
		for _, p := range ps {
			_ = p.cmd.Process.Signal(os.Interrupt)
		}
		deadline := time.After(15 * time.Second)
		for _, p := range ps {
			select {
			case <-p.done:
			case <-deadline:
			}
		}
		for _, p := range ps {
			select {
			case <-p.done:
			default:
				log.Printf("stop: %s did not exit on SIGINT; SIGKILL", p.name)
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	}
	var hookd, temporal []*proc
	for _, p := range procs {
		select {
		case <-p.done:
			continue
		default:
		}
		if p.name == "temporal" {
			temporal = append(temporal, p)
		} else {
			hookd = append(hookd, p)
		}
	}
	stop(hookd)
	stop(temporal)
	t.mu.Lock()
	up := t.pgUp
	t.mu.Unlock()
	for _, name := range []string{"hookd", "temporal"} {
		if up[name] {
			if out, err := script(t.dir, "pg", "stop", name).CombinedOutput(); err != nil {
				log.Printf("stop: PostgreSQL instance %s: %v %s", name, err, out)
			}
		}
	}
}

// receivers are loopback endpoints, one per kind given, that count the 2xx
// answers they give per event (webhook-id). While held, they keep every
// request until released.
type receivers struct {
	kinds    []string
	srvs     []*http.Server
	urls     []string
	ports    []int
	mu       sync.Mutex
	got      []map[string]int // 2xx answers given, per event
	tries    []map[string]int // requests, per event
	inFlight map[string]int   // remote addr of a request in progress -> receiver
	holdCh   chan struct{}    // non-nil: requests wait for it to close
	aborted  atomic.Int64
}

func newReceivers(kinds []string) *receivers {
	n := len(kinds)
	r := &receivers{kinds: kinds, got: make([]map[string]int, n), tries: make([]map[string]int, n), inFlight: map[string]int{}}
	for i, kind := range kinds {
		r.got[i], r.tries[i] = map[string]int{}, map[string]int{}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatalf("%v", err)
		}
		srv := &http.Server{Handler: r.handler(i, kind)}
		go func() { _ = srv.Serve(ln) }()
		r.srvs = append(r.srvs, srv)
		r.ports = append(r.ports, ln.Addr().(*net.TCPAddr).Port)
		r.urls = append(r.urls, "http://"+ln.Addr().String()+"/hook")
	}
	return r
}

// handler is receiver i, of kind: it waits while the receivers are held,
// answers as its kind does, and counts the 2xx it gives per event.
func (r *receivers) handler(i int, kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.inFlight[req.RemoteAddr] = i
		r.tries[i][id]++
		try := r.tries[i][id]
		hold := r.holdCh
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			delete(r.inFlight, req.RemoteAddr)
			r.mu.Unlock()
		}()
		_, _ = io.Copy(io.Discard, req.Body)
		time.Sleep(50 * time.Millisecond)
		if hold != nil {
			select {
			case <-hold:
			case <-req.Context().Done():
			case <-time.After(20 * time.Second): // below the 30s attempt timeout
			}
		}
		if kind == hanging && try == 1 {
			select {
			case <-req.Context().Done():
			case <-time.After(hangFor):
			}
		}
		if req.Context().Err() != nil {
			// The sender is gone (killed, or it timed out): it never saw
			// an answer, so this does not count as delivered.
			r.aborted.Add(1)
			return
		}
		if (kind == flaky || kind == binary) && try == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			if kind == binary {
				_, _ = w.Write(binaryBody)
			}
			return
		}
		r.mu.Lock()
		r.got[i][id]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		if kind == binary {
			_, _ = w.Write(binaryBody)
		}
	}
}

// waitDelivered waits until the receivers answered n more 2xx from now:
// hookd delivers again before the next fault.
func (r *receivers) waitDelivered(phase string, n int, d time.Duration) {
	delivered := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		total := 0
		for _, m := range r.got {
			for _, c := range m {
				total += c
			}
		}
		return total
	}
	from := delivered()
	waitFor(fmt.Sprintf("%d deliveries %s", n, phase), d, func() bool { return delivered() >= from+n })
}

// waiting counts the deliveries between retries: events a receiver that
// fails first attempts got at least one request for but answered no 2xx.
func (r *receivers) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i, kind := range r.kinds {
		if kind == plain {
			continue
		}
		for id := range r.tries[i] {
			if r.got[i][id] == 0 {
				n++
			}
		}
	}
	return n
}

// hold makes requests wait until the returned func is called.
func (r *receivers) hold() (release func()) {
	ch := make(chan struct{})
	r.mu.Lock()
	r.holdCh = ch
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.holdCh = nil
		r.mu.Unlock()
		close(ch)
	}
}

// inFlightOf reports how many requests in progress come from a connection
// of process pid, and how many are in progress in all.
func (r *receivers) inFlightOf(pid int) (mine, all int) {
	r.mu.Lock()
	conns := map[string]int{}
	for addr, i := range r.inFlight {
		conns[addr] = r.ports[i]
	}
	r.mu.Unlock()
	socks := socketInodes(pid)
	for addr, rport := range conns {
		ap, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			continue
		}
		if ino := tcpInode(ap.Port, rport); ino != "" && socks[ino] {
			mine++
		}
	}
	return mine, len(conns)
}

// socketInodes are the inodes of the sockets process pid has open.
func socketInodes(pid int) map[string]bool {
	out := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out
}

// tcpInode finds, in /proc/net/tcp{,6}, the socket whose local port is
// lport and remote port rport, and returns its inode.
func tcpInode(lport, rport int) string {
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[0] == "sl" {
				continue
			}
			if hexPort(fs[1]) == lport && hexPort(fs[2]) == rport {
				f.Close()
				return fs[9]
			}
		}
		f.Close()
	}
	return ""
}

func hexPort(addr string) int {
	_, p, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}

func (r *receivers) count(i int, id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[i][id]
}

func (r *receivers) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range r.srvs {
		_ = s.Shutdown(ctx)
	}
}

func waitPort(addr string, d time.Duration) {
	waitFor("port "+addr, d, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func waitHTTP(url string, d time.Duration) {
	waitFor(url, d, func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
}

func waitFor(what string, d time.Duration, cond func() bool) {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
