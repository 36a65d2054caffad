package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// TestSeparateAPIAndWorkerProcessesDeliverThroughPostgres runs the production
// shape: the hookd binary as one `api` and one `worker` process, against a
// Temporal server (here an embedded one in the test process, on its own
// namespace) and PostgreSQL.
func TestSeparateAPIAndWorkerProcessesDeliverThroughPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes")
	}
	t.Parallel()
	pg := modelstest.OpenPostgres(t) // a fresh schema; the processes share it through the DSN
	dsn := pg.DSN()

	bin := filepath.Join(t.TempDir(), "hookd")
	build := exec.Command("go", "build", "-o", bin, "../cmd/hookd")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	srv, err := devserver.Start(context.Background(), devserver.Config{
		DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: "hookd-prod-test",
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	apiAddr := freeAddr(t)
	env := processEnv(t,
		"HOOKD_DATABASE_URL="+dsn,
		"HOOKD_TEMPORAL_ADDRESS="+srv.FrontendHostPort(),
		"HOOKD_TEMPORAL_NAMESPACE=hookd-prod-test",
		"HOOKD_API_KEY="+apiKey,
		"HOOKD_API_ADDR="+apiAddr,
		"HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8",
	)
	startProcess(t, bin, "worker", env, "hookd worker is running")
	startProcess(t, bin, "api", env, "hookd api is running")

	c := &client{t: t, base: "http://" + apiAddr, key: apiKey}
	rcv := newReceiver(t, always(200))
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ev := c.postEvent("procs-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"x": 1}})
	waitFor(t, 20*time.Second, "delivery through api and worker processes", func() bool { return len(rcv.requests()) == 1 })
	require.Equal(t, ev["id"], rcv.requests()[0].Header.Get("webhook-id"))
	waitFor(t, 10*time.Second, "the worker records the attempt in PostgreSQL", func() bool {
		var n int64
		require.NoError(t, pg.DB().Model(&models.Attempt{}).Where("succeeded").Count(&n).Error)
		return n == 1
	})
}

// startProcess runs `bin mode` and waits for its ready line on stdout.
func startProcess(t *testing.T, bin, mode string, env []string, ready string) {
	t.Helper()
	cmd := exec.Command(bin, mode)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "hookd %s exited before it was ready", mode)
			if strings.Contains(l, ready) {
				go func() {
					for range lines {
					}
				}()
				return
			}
		case <-deadline:
			t.Fatalf("hookd %s not ready after 60s", mode)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
