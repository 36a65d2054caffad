package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// TestGracefulWorkerShutdownFinishesTheInFlightAttempt sends SIGTERM to a
// `hookd worker` process while one of its attempts is waiting on the
// receiver. The worker must not drop the attempt: either it lets the attempt
// finish and records it before it exits (what hookd promises: the SDK's
// WorkerStopTimeout lets in-flight local activities end), or, if it exits
// first, the attempt is handed back to Temporal and a second worker makes it
// again, at most once more.
func TestGracefulWorkerShutdownFinishesTheInFlightAttempt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes")
	}
	t.Parallel()
	pg := modelstest.OpenPostgres(t)

	bin := filepath.Join(t.TempDir(), "hookd")
	build := exec.Command("go", "build", "-o", bin, "../cmd/hookd")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	const namespace = "hookd-shutdown-test"
	srv, err := devserver.Start(context.Background(), devserver.Config{
		DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: namespace,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	tc, err := sdkclient.Dial(sdkclient.Options{HostPort: srv.FrontendHostPort(), Namespace: namespace})
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	apiAddr := freeAddr(t)
	env := processEnv(t,
		"HOOKD_DATABASE_URL="+pg.DSN(),
		"HOOKD_TEMPORAL_ADDRESS="+srv.FrontendHostPort(),
		"HOOKD_TEMPORAL_NAMESPACE="+namespace,
		"HOOKD_API_KEY="+apiKey,
		"HOOKD_API_ADDR="+apiAddr,
		"HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8",
		"HOOKD_LOG_LEVEL=info",
	)
	worker := startWorkerProcess(t, bin, env)
	startProcess(t, bin, "api", env, "hookd api is running")

	// The receiver holds its first request until release is closed, then
	// answers 200; later requests are answered at once.
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseNow := func() { releaseOnce.Do(func() { close(release) }) }
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			<-release
		}
		return 200
	})
	t.Cleanup(releaseNow) // runs before rcv.Close, which waits for held requests

	c := &client{t: t, base: "http://" + apiAddr, key: apiKey}
	tenant := models.NewID("tenant")
	c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant})
	ev := c.postEvent("shutdown-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"x": 1}})
	ds := ev["deliveries"].([]any)
	require.Len(t, ds, 1)
	deliveryID := ds[0].(map[string]any)["id"].(string)

	waitFor(t, 20*time.Second, "the receiver holds the first attempt", func() bool { return len(rcv.requests()) == 1 })
	status, d := c.do("GET", "/v1/deliveries/"+deliveryID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, models.DeliveryPending, d["status"], "the attempt is in flight, not finished")
	require.Empty(t, d["attempts"], "no attempt is recorded while it is in flight")
	workflowID := d["workflow_id"].(string)

	require.NoError(t, worker.cmd.Process.Signal(syscall.SIGTERM))
	sigAt := time.Now()
	exitedEarly := false
	select {
	case <-worker.exited:
		exitedEarly = true
	case <-time.After(time.Second):
	}
	releaseNow()
	releasedAt := time.Now()

	select {
	case <-worker.exited:
	case <-time.After(30 * time.Second): // well inside WorkerStopTimeout (75s)
		t.Fatalf("the worker did not exit within 30s of the in-flight attempt's answer; its log:\n%s", worker.log.String())
	}
	exitedAfter := time.Since(sigAt)
	require.NoError(t, worker.err, "the worker must exit cleanly after SIGTERM; its log:\n%s", worker.log.String())
	require.Contains(t, worker.log.String(), "shutting down", "the worker logs its shutdown")

	if exitedEarly {
		// Shutdown did not wait: the attempt must have been handed back to
		// Temporal, so another worker makes it.
		t.Logf("observed: the worker exited %v after SIGTERM, before the held attempt was answered; handing back to a second worker", exitedAfter)
		startWorkerProcess(t, bin, env)
		got := awaitDelivery(t, c, deliveryID, models.DeliverySucceeded)
		atts := got["attempts"].([]any)
		require.NotEmpty(t, atts)
		require.True(t, atts[len(atts)-1].(map[string]any)["succeeded"].(bool), "attempts: %v", atts)
		n := len(rcv.requests())
		t.Logf("after the hand-back: %d attempts recorded, %d requests received", len(atts), n)
		require.LessOrEqual(t, n, 2, "at most one extra request after a hand-back")
		requireWorkflowCompleted(t, tc, workflowID)
		return
	}

	// The worker waited for the in-flight attempt: without any other worker
	// running, the attempt must be recorded and the workflow completed.
	t.Logf("observed: the worker waited for the in-flight attempt and exited %v after SIGTERM (%v after the receiver answered)",
		exitedAfter.Round(time.Millisecond), time.Since(releasedAt).Round(time.Millisecond))
	status, d = c.do("GET", "/v1/deliveries/"+deliveryID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, models.DeliverySucceeded, d["status"], "attempts: %v", d["attempts"])
	atts := d["attempts"].([]any)
	require.Len(t, atts, 1, "exactly the one in-flight attempt is recorded")
	att := atts[0].(map[string]any)
	require.Equal(t, true, att["succeeded"])
	require.Equal(t, float64(200), att["status_code"])
	require.Equal(t, float64(1), att["number"])
	requireWorkflowCompleted(t, tc, workflowID)
	// No worker is left, so nothing can repeat the attempt; the receiver saw
	// it once.
	require.Len(t, rcv.requests(), 1)
}

// requireWorkflowCompleted checks that the delivery's workflow is closed as
// completed: its result was handed to Temporal, so no worker will replay the
// attempt.
func requireWorkflowCompleted(t *testing.T, tc sdkclient.Client, workflowID string) {
	t.Helper()
	var st enums.WorkflowExecutionStatus
	waitFor(t, 10*time.Second, "the delivery workflow completes", func() bool {
		desc, err := tc.DescribeWorkflowExecution(context.Background(), workflowID, "")
		require.NoError(t, err)
		st = desc.WorkflowExecutionInfo.Status
		return st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, st)
}

// workerProcess is a `hookd worker` the test signals and watches exit.
type workerProcess struct {
	cmd    *exec.Cmd
	log    *syncBuffer // stderr (the JSON log)
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// startWorkerProcess runs `bin worker` and waits for its ready line. Unlike
// startProcess it gives the test the process, to signal it and see it exit.
func startWorkerProcess(t *testing.T, bin string, env []string) *workerProcess {
	t.Helper()
	w := &workerProcess{cmd: exec.Command(bin, "worker"), log: &syncBuffer{}, exited: make(chan struct{})}
	w.cmd.Env = env
	w.cmd.Stderr = w.log
	out, err := w.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, w.cmd.Start())
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "hookd worker is running") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		_ = w.cmd.Process.Signal(os.Interrupt)
		select {
		case <-w.exited:
		case <-time.After(20 * time.Second):
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		if t.Failed() {
			t.Logf("hookd worker log:\n%s", w.log.String())
		}
	})
	select {
	case <-ready:
	case <-w.exited:
		t.Fatalf("hookd worker exited before it was ready: %v\n%s", w.err, w.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("hookd worker not ready after 60s\n%s", w.log.String())
	}
	return w
}
