// Command hookd-faults is the fault test of the production topology: while
// events flow to loopback receivers it kills worker1 with SIGKILL while
// worker1 itself holds attempts in flight, kills the api with SIGKILL right
// after it answered 2xx, and restarts PostgreSQL while events are still
// being published. Then it checks that every accepted event reached every
// endpoint at least once, and reports events, deliveries, duplicates and
// losses. It exits 1 on any loss, and stops every process it started on
// every exit path (failure, timeout, Ctrl-C included).
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

func main() {
	var (
		dir       = flag.String("dir", ".topology", "the topology dir made by scripts/topology.sh setup")
		bin       = flag.String("bin", "bin", "where hookd and temporal-server are")
		events    = flag.Int("events", 150, "events to publish at least (publishing goes on until the faults are over)")
		endpoints = flag.Int("endpoints", 3, "endpoints (each gets every event)")
		rate      = flag.Int("rate", 15, "events published per second")
		afterPG   = flag.Int("after-restart", 30, "events that must be accepted after PostgreSQL came back before publishing stops")
		wait      = flag.Duration("wait", 4*time.Minute, "how long to wait for every delivery after publishing")
	)
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fatalf("got %s", s)
	}()

	for _, addr := range []string{"127.0.0.1:7233", apiAddr, "127.0.0.1:9101", "127.0.0.1:9102"} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			fatalf("%s is already in use (a leftover temporal-server or hookd?); stop it first", addr)
		}
	}

	dirAbs, _ := filepath.Abs(*dir)
	binAbs, _ := filepath.Abs(*bin)
	t := &topology{dir: dirAbs, bin: binAbs, env: topologyEnv()}
	onExit(t.stopAll)

	t.temporal = t.start("temporal", filepath.Join(binAbs, "temporal-server"), nil,
		"--root", dirAbs, "--config", "config", "--env", "development-postgres12", "--allow-no-auth", "start")
	waitPort("127.0.0.1:7233", 90*time.Second)
	t.worker1 = t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9101")
	t.worker2 = t.startHookd("worker2", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9102")
	t.api = t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)
	waitHTTP("http://"+apiAddr+"/healthz", 90*time.Second)

	rcv := newReceivers(*endpoints)
	onExit(rcv.close)
	for i := range *endpoints {
		status, body := call("POST", "/v1/endpoints", "", map[string]any{
			"url": rcv.urls[i], "tenant_id": "faults", "retry_schedule": []string{"1s", "2s", "5s", "10s", "30s"}})
		if status != http.StatusCreated {
			fatalf("create endpoint: %d %s", status, body)
		}
	}

	// Publish until told to stop; a client retries a request with the same
	// key until it gets a 2xx, so every key published ends up accepted.
	pub := &publisher{rate: *rate, answered: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go pub.run()

	// Fault 1: SIGKILL worker1 while worker1 itself holds attempts in flight.
	// The receivers hold every request they get until released, and an
	// attempt is worker1's when the client end of its connection is a socket
	// of worker1's process (/proc/<pid>/fd against /proc/net/tcp).
	time.Sleep(3 * time.Second)
	release := rcv.hold()
	var mine, all int
	waitFor("worker1 to hold an attempt in flight", 30*time.Second, func() bool {
		mine, all = rcv.inFlightOf(t.worker1.Process.Pid)
		return mine > 0
	})
	log.Printf("fault: kill -9 worker1 (pid %d) holding %d of the %d attempts in flight", t.worker1.Process.Pid, mine, all)
	t.kill(t.worker1)
	time.Sleep(300 * time.Millisecond) // let the receivers see worker1's connections close
	release()
	t.worker1 = t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9101")

	// Fault 2: SIGKILL the api right after it answered a 2xx.
	time.Sleep(2 * time.Second)
	for len(pub.answered) > 0 {
		<-pub.answered
	}
	select {
	case <-pub.answered:
	case <-time.After(30 * time.Second):
		fatalf("the api answered no 2xx within 30s")
	}
	log.Printf("fault: kill -9 api right after a 2xx (%d accepted so far)", pub.acceptedN.Load())
	t.kill(t.api)
	time.Sleep(time.Second)
	t.api = t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)

	// Fault 3: restart PostgreSQL under everything while events still flow.
	time.Sleep(3 * time.Second)
	before := pub.acceptedN.Load()
	if before == 0 {
		fatalf("no event accepted before the PostgreSQL restart")
	}
	log.Printf("fault: restart PostgreSQL (%d accepted so far, publishing goes on)", before)
	pub.phase.Store(phaseRestarting)
	if out, err := exec.Command("bash", "-c", "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -V | tail -n1) main restart -m fast").CombinedOutput(); err != nil {
		fatalf("restart postgres: %v %s", err, out)
	}
	pub.phase.Store(phaseAfter)
	log.Printf("fault: PostgreSQL is back")

	// Keep publishing until enough events were accepted after the restart
	// (and at least -events in all), then stop.
	waitFor(fmt.Sprintf("%d events accepted after the PostgreSQL restart", *afterPG), 2*time.Minute, func() bool {
		return pub.byPhase[phaseAfter].Load() >= int64(*afterPG) && pub.keys.Load() >= int64(*events)
	})
	close(pub.stop)
	select {
	case <-pub.done:
	case <-time.After(2 * time.Minute):
		fatalf("publishing did not end 2 minutes after it was told to stop")
	}
	log.Printf("published: %d events accepted (%d before the PostgreSQL restart, %d during it, %d after it)",
		pub.acceptedN.Load(), pub.byPhase[phaseBefore].Load(), pub.byPhase[phaseRestarting].Load(), pub.byPhase[phaseAfter].Load())

	ids := pub.ids()
	deadline := time.Now().Add(*wait)
	var lost int
	for {
		lost = 0
		for _, id := range ids {
			for i := range *endpoints {
				if rcv.count(i, id) == 0 {
					lost++
				}
			}
		}
		if lost == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	expected := len(ids) * *endpoints
	dups := rcv.total() - (expected - lost)
	fmt.Printf("worker1 attempts in flight when killed: %d (of %d at the receivers)\n", mine, all)
	fmt.Printf("requests cut off by a kill (not counted as delivered): %d\n", rcv.aborted.Load())
	fmt.Printf("events accepted before/during/after the PostgreSQL restart: %d/%d/%d\n",
		pub.byPhase[phaseBefore].Load(), pub.byPhase[phaseRestarting].Load(), pub.byPhase[phaseAfter].Load())
	fmt.Printf("events accepted: %d\ndeliveries expected: %d\ndelivered: %d\nduplicates: %d\nlosses: %d\n",
		len(ids), expected, expected-lost, dups, lost)
	switch {
	case lost > 0:
		fmt.Println("FAIL: not every accepted event reached every endpoint")
		exit(1)
	case int64(len(ids)) != pub.keys.Load():
		fmt.Printf("FAIL: %d idempotency keys published but %d distinct events accepted\n", pub.keys.Load(), len(ids))
		exit(1)
	case pub.byPhase[phaseAfter].Load() == 0:
		fmt.Println("FAIL: no event was accepted after the PostgreSQL restart")
		exit(1)
	}
	fmt.Println("PASS: nothing accepted was lost")
	exit(0)
}

const apiAddr = "127.0.0.1:8080"

const (
	phaseBefore = iota
	phaseRestarting
	phaseAfter
)

// publisher posts events at a fixed rate until stop is closed.
type publisher struct {
	rate      int
	accepted  sync.Map // event id -> true
	acceptedN atomic.Int64
	keys      atomic.Int64    // idempotency keys published
	phase     atomic.Int32    // phaseBefore, phaseRestarting, phaseAfter
	byPhase   [3]atomic.Int64 // events accepted in each phase (by when the 2xx came)
	answered  chan struct{}   // a 2xx just came
	stop      chan struct{}   // closed: publish no new key
	done      chan struct{}   // closed when the last key was accepted
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
					p.byPhase[p.phase.Load()].Add(1)
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

func topologyEnv() []string {
	out, err := exec.Command("bash", "scripts/topology.sh", "env").Output()
	if err != nil {
		fatalf("scripts/topology.sh env: %v", err)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKD_") {
			env = append(env, kv)
		}
	}
	return append(env, strings.Fields(string(out))...)
}

func apiKey() string {
	for _, kv := range topologyEnv() {
		if v, ok := strings.CutPrefix(kv, "HOOKD_API_KEY="); ok {
			return v
		}
	}
	return ""
}

var key = apiKey()

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

// topology holds the processes.
type topology struct {
	dir, bin                        string
	env                             []string
	mu                              sync.Mutex
	procs                           []*proc
	temporal, api, worker1, worker2 *exec.Cmd
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
}

func (t *topology) start(name, path string, extraEnv []string, args ...string) *exec.Cmd {
	f, err := os.OpenFile(filepath.Join(t.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fatalf("%v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = t.dir
	cmd.Env = append(append([]string{}, t.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	t.mu.Lock()
	t.procs = append(t.procs, p)
	t.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return cmd
}

func (t *topology) startHookd(name, mode string, env ...string) *exec.Cmd {
	return t.start(name, filepath.Join(t.bin, "hookd"), env, mode)
}

func (t *topology) kill(c *exec.Cmd) { _ = c.Process.Kill() }

// stopAll interrupts every process still running (hookd first, the Temporal
// server last), waits up to 15s for them, SIGKILLs what is left and waits
// for it to be gone, so that no port stays taken.
func (t *topology) stopAll() {
	t.mu.Lock()
	procs := append([]*proc{}, t.procs...)
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
		if p.name == "temporal" {
			temporal = append(temporal, p)
		} else {
			hookd = append(hookd, p)
		}
	}
	stop(hookd)
	stop(temporal)
}

// receivers are loopback endpoints that count what they get, answering 200
// after a short delay so that attempts are in flight when a worker dies.
// While held, they keep every request until released.
type receivers struct {
	srvs     []*http.Server
	urls     []string
	ports    []int
	mu       sync.Mutex
	got      []map[string]int
	inFlight map[string]int // remote addr of a request in progress -> receiver
	holdCh   chan struct{}  // non-nil: requests wait for it to close
	aborted  atomic.Int64
}

func newReceivers(n int) *receivers {
	r := &receivers{got: make([]map[string]int, n), inFlight: map[string]int{}}
	for i := range n {
		r.got[i] = map[string]int{}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatalf("%v", err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.mu.Lock()
			r.inFlight[req.RemoteAddr] = i
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
			if req.Context().Err() != nil {
				// The sender is gone (killed): it never saw an answer, so this
				// does not count as delivered; hookd must send it again.
				r.aborted.Add(1)
				return
			}
			r.mu.Lock()
			r.got[i][req.Header.Get("webhook-id")]++
			r.mu.Unlock()
			w.WriteHeader(http.StatusOK)
		})}
		go srv.Serve(ln)
		r.srvs = append(r.srvs, srv)
		r.ports = append(r.ports, ln.Addr().(*net.TCPAddr).Port)
		r.urls = append(r.urls, "http://"+ln.Addr().String()+"/hook")
	}
	return r
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

func (r *receivers) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.got {
		for _, c := range m {
			n += c
		}
	}
	return n
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
