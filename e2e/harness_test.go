// Package e2e runs hookd end to end in the test process: the embedded
// Temporal server, the worker and the API exactly as `hookd dev` wires them,
// with real HTTP receivers on loopback.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// hookd is the instance the tests in this package share (SQLite); hookdPG
// is a second one whose app data is in PostgreSQL, when the test DSN is set.
var hookd, hookdPG *app.App

const apiKey = "e2e-test-key-0123456789"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookd-e2e-")
	if err != nil {
		panic(err)
	}
	a, err := startDev(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start hookd:", err)
		os.Exit(1)
	}
	hookd = a
	var dropSchema func()
	if dsn := os.Getenv(modelstest.PostgresDSNEnv); dsn != "" {
		schemaDSN, drop, err := modelstest.NewSchema(dsn)
		if err != nil {
			fmt.Fprintln(os.Stderr, "postgres schema:", err)
			os.Exit(1)
		}
		dropSchema = drop
		if hookdPG, err = startDev(dir+"/pg", "HOOKD_DATABASE_URL="+schemaDSN); err != nil {
			fmt.Fprintln(os.Stderr, "start hookd on postgres:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	a.Stop(context.Background())
	if hookdPG != nil {
		hookdPG.Stop(context.Background())
		dropSchema()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// startDev starts hookd in dev mode on free ports with its data in dir.
func startDev(dir string, extraEnv ...string) (*app.App, error) {
	// Quiet by default: the embedded server logs errors while it shuts down.
	level := slog.Level(100)
	if os.Getenv("HOOKD_E2E_LOG") != "" {
		level = slog.LevelInfo
	}
	return startDevLogged(dir, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), extraEnv...)
}

// startDevLogged is startDev with the logger hookd is given.
func startDevLogged(dir string, log *slog.Logger, extraEnv ...string) (*app.App, error) {
	env := append([]string{
		"HOOKD_API_ADDR=127.0.0.1:0",
		"HOOKD_TEMPORAL_ADDRESS=127.0.0.1:0",
		"HOOKD_TEMPORAL_UI_PORT=0",
		"HOOKD_DATA_DIR=" + dir,
		"HOOKD_API_KEY=" + apiKey,
	}, extraEnv...)
	cfg, err := config.Load(config.ModeDev, env)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return app.Start(ctx, cfg, log)
}

// client calls the API of one hookd.
type client struct {
	t    *testing.T
	base string
	key  string
}

func api(t *testing.T) *client { return &client{t: t, base: hookd.APIURL, key: apiKey} }

// onBothStores runs fn against the SQLite-backed hookd and the
// PostgreSQL-backed one (which CI requires; skipped locally without the DSN).
func onBothStores(t *testing.T, fn func(t *testing.T, c *client, h *app.App)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, &client{t: t, base: hookd.APIURL, key: apiKey}, hookd)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if hookdPG == nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not set; CI must run the API tests on PostgreSQL", modelstest.PostgresDSNEnv)
			}
			t.Skipf("%s not set", modelstest.PostgresDSNEnv)
		}
		fn(t, &client{t: t, base: hookdPG.APIURL, key: apiKey}, hookdPG)
	})
}

// do sends a request and decodes the JSON answer into a map (or out, if given).
func (c *client) do(method, path string, body any, header ...string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(c.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	return c.answer(resp)
}

// postConcurrently sends n POSTs to path at once, the i-th with body(i),
// and returns their statuses and answers in that order.
func (c *client) postConcurrently(n int, path string, body func(i int) any) ([]int, []map[string]any) {
	statuses, answers := make([]int, n), make([]map[string]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], answers[i] = c.do("POST", path, body(i))
		}()
	}
	wg.Wait()
	return statuses, answers
}

// answer reads resp's status and decodes its JSON body into a map.
func (c *client) answer(resp *http.Response) (int, map[string]any) {
	c.t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(c.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, out
}

// createEndpoint creates an endpoint and returns its id and secret.
func (c *client) createEndpoint(body map[string]any) (id, secret string) {
	c.t.Helper()
	status, out := c.do("POST", "/v1/endpoints", body)
	require.Equal(c.t, http.StatusCreated, status, "%v", out)
	return out["id"].(string), out["secret"].(string)
}

// postEvent ingests an event and returns the response body.
func (c *client) postEvent(key string, body map[string]any) map[string]any {
	c.t.Helper()
	status, out := c.do("POST", "/v1/events", body, "Idempotency-Key", key)
	require.Equal(c.t, http.StatusAccepted, status, "%v", out)
	return out
}

// received is one request a receiver got.
type received struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server on loopback. Its answer function decides
// the status of the n-th request (1-based).
//
// It counts only requests under a path of its own (URL includes it): the
// shared hookd goes on retrying deliveries of tests that have ended, to
// their receivers' ports, and a new receiver may be given a port that one of
// those had. Such strays get 410 and are not this receiver's requests.
type receiver struct {
	*httptest.Server
	URL    string // the server's URL and the receiver's own path
	path   string
	mu     sync.Mutex
	got    []received
	answer func(n int) int
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{answer: answer, path: "/" + models.NewID("rcv")}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !underPath(req, r.path) {
			http.Error(w, "not this receiver's path", http.StatusGone)
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{At: time.Now(), Header: req.Header.Clone(), Body: body})
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader(r.answer(n))
		fmt.Fprintf(w, "answer %d", n)
	}))
	r.URL = r.Server.URL + r.path
	t.Cleanup(r.Close)
	return r
}

// underPath reports whether req is for path or below it.
func underPath(req *http.Request, path string) bool {
	return req.URL.Path == path || strings.HasPrefix(req.URL.Path, path+"/")
}

func always(status int) func(int) int { return func(int) int { return status } }

// switchableReceiver answers 200 while healthy is set and 500 otherwise
// (healthy starts unset).
func switchableReceiver(t *testing.T) (*receiver, *atomic.Bool) {
	healthy := new(atomic.Bool)
	return newReceiver(t, func(int) int {
		if healthy.Load() {
			return 200
		}
		return 500
	}), healthy
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, timeout, 20*time.Millisecond, "waiting for %s", what)
}

// processEnv is the environment of a hookd process a test starts: the
// test's own, less every HOOKD_ setting (hookd refuses those it does not
// know) and Temporal's client configuration (TEMPORAL_*, and a profile
// file of the machine's user, which would turn TLS on against the test's
// plaintext server), plus settings.
func processEnv(t *testing.T, settings ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKD_") && !strings.HasPrefix(kv, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TEMPORAL_CONFIG_FILE="+filepath.Join(t.TempDir(), "no-temporal.toml"))
	return append(env, settings...)
}
