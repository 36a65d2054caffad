// Command hookd-faults is the fault test of the production topology: while
// events flow to loopback receivers it kills a worker with SIGKILL in the
// middle of attempts, kills the api with SIGKILL right after it answered
// 2xx, and restarts PostgreSQL. Then it checks that every accepted event
// reached every endpoint at least once, and reports events, deliveries,
// duplicates and losses. It exits 1 on any loss.
//
// Run it with `make faults` (which first runs scripts/topology.sh setup).
package main

import (
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
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		dir       = flag.String("dir", ".topology", "the topology dir made by scripts/topology.sh setup")
		bin       = flag.String("bin", "bin", "where hookd and temporal-server are")
		events    = flag.Int("events", 150, "events to publish")
		endpoints = flag.Int("endpoints", 3, "endpoints (each gets every event)")
		rate      = flag.Int("rate", 15, "events published per second")
		wait      = flag.Duration("wait", 4*time.Minute, "how long to wait for every delivery after publishing")
	)
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	dirAbs, _ := filepath.Abs(*dir)
	binAbs, _ := filepath.Abs(*bin)
	t := &topology{dir: dirAbs, bin: binAbs, env: topologyEnv()}
	defer t.stopAll()

	t.temporal = t.start("temporal", filepath.Join(binAbs, "temporal-server"), nil,
		"--root", dirAbs, "--config", "config", "--env", "development-postgres12", "--allow-no-auth", "start")
	waitPort("127.0.0.1:7233", 90*time.Second)
	t.worker1 = t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9101")
	t.worker2 = t.startHookd("worker2", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9102")
	t.api = t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)
	waitHTTP("http://"+apiAddr+"/healthz", 90*time.Second)

	rcv := newReceivers(*endpoints)
	defer rcv.close()
	for i := range *endpoints {
		status, body := call("POST", "/v1/endpoints", "", map[string]any{
			"url": rcv.urls[i], "tenant_id": "faults", "retry_schedule": []string{"1s", "2s", "5s", "10s", "30s"}})
		if status != http.StatusCreated {
			log.Fatalf("create endpoint: %d %s", status, body)
		}
	}

	// Publish; a client retries a request with the same key until it gets a 2xx.
	var accepted sync.Map // event id -> true
	var acceptedN atomic.Int64
	answered := make(chan struct{}, 1)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(time.Second / time.Duration(*rate))
		defer tick.Stop()
		for i := range *events {
			<-tick.C
			key := fmt.Sprintf("faults-%d", i)
			for {
				status, body := call("POST", "/v1/events", key, map[string]any{"type": "fault.test", "tenant_id": "faults", "payload": map[string]any{"i": i}})
				if status == http.StatusAccepted {
					var ev struct{ ID string }
					_ = json.Unmarshal(body, &ev)
					accepted.Store(ev.ID, true)
					acceptedN.Add(1)
					select {
					case answered <- struct{}{}:
					default:
					}
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()

	// Fault 1: SIGKILL a worker while receivers hold attempts in flight.
	time.Sleep(3 * time.Second)
	waitFor(func() bool { return rcv.inFlight.Load() > 0 }, 10*time.Second)
	log.Printf("fault: kill -9 worker1 with %d attempts in flight", rcv.inFlight.Load())
	t.kill(t.worker1)
	time.Sleep(2 * time.Second)
	t.worker1 = t.startHookd("worker1", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:9101")

	// Fault 2: SIGKILL the api right after it answered a 2xx.
	time.Sleep(2 * time.Second)
	for len(answered) > 0 {
		<-answered
	}
	<-answered
	log.Printf("fault: kill -9 api right after a 2xx (%d accepted so far)", acceptedN.Load())
	t.kill(t.api)
	time.Sleep(time.Second)
	t.api = t.startHookd("api", "api", "HOOKD_API_ADDR="+apiAddr)

	// Fault 3: restart PostgreSQL under everything.
	time.Sleep(3 * time.Second)
	log.Printf("fault: restart PostgreSQL")
	if out, err := exec.Command("bash", "-c", "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -V | tail -n1) main restart -m fast").CombinedOutput(); err != nil {
		log.Fatalf("restart postgres: %v %s", err, out)
	}

	<-pubDone
	log.Printf("published: %d events accepted", acceptedN.Load())
	ids := []string{}
	accepted.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
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
	fmt.Printf("events accepted: %d\ndeliveries expected: %d\ndelivered: %d\nduplicates: %d\nlosses: %d\n",
		len(ids), expected, expected-lost, dups, lost)
	if lost > 0 || len(ids) != *events {
		fmt.Println("FAIL: not every accepted event reached every endpoint")
		os.Exit(1)
	}
	fmt.Println("PASS: nothing accepted was lost")
}

const apiAddr = "127.0.0.1:8080"

func topologyEnv() []string {
	out, err := exec.Command("bash", "scripts/topology.sh", "env").Output()
	if err != nil {
		log.Fatalf("scripts/topology.sh env: %v", err)
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
	procs                           []*exec.Cmd
	temporal, api, worker1, worker2 *exec.Cmd
}

func (t *topology) start(name, path string, extraEnv []string, args ...string) *exec.Cmd {
	f, err := os.OpenFile(filepath.Join(t.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = t.dir
	cmd.Env = append(append([]string{}, t.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		log.Fatalf("start %s: %v", name, err)
	}
	t.mu.Lock()
	t.procs = append(t.procs, cmd)
	t.mu.Unlock()
	go cmd.Wait()
	return cmd
}

func (t *topology) startHookd(name, mode string, env ...string) *exec.Cmd {
	return t.start(name, filepath.Join(t.bin, "hookd"), env, mode)
}

func (t *topology) kill(c *exec.Cmd) { _ = c.Process.Kill() }

func (t *topology) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.procs {
		_ = c.Process.Signal(os.Interrupt)
	}
	time.Sleep(2 * time.Second)
	for _, c := range t.procs {
		_ = c.Process.Kill()
	}
}

// receivers are loopback endpoints that count what they get, answering 200
// after a short delay so that attempts are in flight when a worker dies.
type receivers struct {
	srvs     []*http.Server
	urls     []string
	mu       sync.Mutex
	got      []map[string]int
	inFlight atomic.Int64
}

func newReceivers(n int) *receivers {
	r := &receivers{got: make([]map[string]int, n)}
	for i := range n {
		r.got[i] = map[string]int{}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.inFlight.Add(1)
			defer r.inFlight.Add(-1)
			_, _ = io.Copy(io.Discard, req.Body)
			time.Sleep(50 * time.Millisecond)
			r.mu.Lock()
			r.got[i][req.Header.Get("webhook-id")]++
			r.mu.Unlock()
			w.WriteHeader(http.StatusOK)
		})}
		go srv.Serve(ln)
		r.srvs = append(r.srvs, srv)
		r.urls = append(r.urls, "http://"+ln.Addr().String()+"/hook")
	}
	return r
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
	for _, s := range r.srvs {
		_ = s.Shutdown(context.Background())
	}
}

func waitPort(addr string, d time.Duration) {
	waitFor(func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, d)
}

func waitHTTP(url string, d time.Duration) {
	waitFor(func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, d)
}

func waitFor(cond func() bool, d time.Duration) {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			log.Fatalf("timed out after %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
