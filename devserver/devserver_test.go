package devserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/log/tag"
)

const testTaskQueue = "devserver-test"

func Greet(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Exclaim, "hello "+name).Get(ctx, &out)
	return out, err
}

func Exclaim(_ context.Context, s string) (string, error) { return s + "!", nil }

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func startServer(t *testing.T, ctx context.Context, cfg Config) *Server {
	t.Helper()
	begin := time.Now()
	srv, err := Start(ctx, cfg)
	require.NoError(t, err)
	t.Logf("Start took %v (frontend %s, UI %q)", time.Since(begin), srv.FrontendHostPort(), srv.UIURL())
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func dial(t *testing.T, srv *Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// requestEagerStart starts a workflow through the raw API asking for eager
// execution and reports whether the server handed back the first workflow
// task inline. The workflow is terminated afterwards.
func requestEagerStart(t *testing.T, ctx context.Context, c client.Client, ns, id string) bool {
	t.Helper()
	resp, err := c.WorkflowService().StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{
		Namespace:             ns,
		WorkflowId:            id,
		WorkflowType:          &commonpb.WorkflowType{Name: "Greet"},
		TaskQueue:             &taskqueuepb.TaskQueue{Name: "eager-probe", Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Identity:              "devserver-test",
		RequestId:             id,
		RequestEagerExecution: true,
	})
	require.NoError(t, err)
	require.True(t, resp.GetStarted())
	require.NoError(t, c.TerminateWorkflow(ctx, id, resp.GetRunId(), "probe done"))
	return resp.GetEagerWorkflowTask() != nil
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestStartRunWorkflowStopRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet: Start creates it

	// --- First run: fresh data dir, free ports, UI on.
	srv := startServer(t, ctx, Config{DataDir: dir, Logger: testLogger(),
		SearchAttributes: map[string]enumspb.IndexedValueType{"TestTenant": enumspb.INDEXED_VALUE_TYPE_KEYWORD}})
	require.Equal(t, "default", srv.Namespace())
	require.True(t, strings.HasPrefix(srv.FrontendHostPort(), "127.0.0.1:"), srv.FrontendHostPort())
	require.True(t, strings.HasPrefix(srv.UIURL(), "http://127.0.0.1:"), srv.UIURL())
	require.NotEmpty(t, srv.HTTPHostPort())
	require.FileExists(t, filepath.Join(dir, DBFileName))
	require.FileExists(t, filepath.Join(dir, VisibilityDBFileName))

	// The data dir is locked while in use.
	_, err := Start(ctx, Config{DataDir: dir, UIPort: -1})
	require.ErrorContains(t, err, "in use")

	c := dial(t, srv)
	w := worker.New(c, testTaskQueue, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(Exclaim)
	require.NoError(t, w.Start())

	// The search attribute given in Config is usable from the first start,
	// and the visibility store (its own file) can be queried by it.
	tenant := temporal.NewSearchAttributeKeyKeyword("TestTenant")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "greet-1",
		TaskQueue:             testTaskQueue,
		EnableEagerStart:      true,
		TypedSearchAttributes: temporal.NewSearchAttributes(tenant.ValueSet("acme")),
	}, Greet, "hookd")
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "hello hookd!", got)
	firstRunID := run.GetRunID()
	require.Eventually(t, func() bool {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: srv.Namespace(), Query: "TestTenant = 'acme' AND ExecutionStatus = 'Completed'"})
		return err == nil && resp.GetCount() == 1
	}, 10*time.Second, 50*time.Millisecond)

	// Eager workflow start is on: the task comes back inline.
	require.True(t, requestEagerStart(t, ctx, c, srv.Namespace(), "eager-1"))

	// The UI is served and its API proxy reaches the embedded frontend.
	code, body := httpGet(t, srv.UIURL()+"/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, strings.ToLower(body), "<html")
	code, body = httpGet(t, srv.UIURL()+"/api/v1/namespaces/default")
	require.Equal(t, http.StatusOK, code, body)
	var nsResp struct {
		NamespaceInfo struct{ Name, State string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &nsResp), body)
	require.Equal(t, "default", nsResp.NamespaceInfo.Name)
	require.Equal(t, "NAMESPACE_STATE_REGISTERED", nsResp.NamespaceInfo.State)

	w.Stop()
	c.Close()
	frontend := srv.FrontendHostPort()
	uiURL := srv.UIURL()
	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Stop(), "Stop is idempotent")

	// Everything is really down.
	_, err = net.DialTimeout("tcp", frontend, time.Second)
	require.Error(t, err, "frontend still listening after Stop")
	_, err = net.DialTimeout("tcp", strings.TrimPrefix(uiURL, "http://"), time.Second)
	require.Error(t, err, "UI still listening after Stop")

	// --- Second run on the same data dir: no UI, and a dynamic-config
	// override (eager start off) to prove overrides reach the server.
	srv2 := startServer(t, ctx, Config{
		DataDir:       dir,
		UIPort:        -1,
		Logger:        testLogger(),
		DynamicConfig: map[string]any{"system.enableEagerWorkflowStart": false},
	})
	require.Empty(t, srv2.UIURL())
	c2 := dial(t, srv2)

	desc, err := c2.DescribeWorkflowExecution(ctx, "greet-1", "")
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	require.Equal(t, firstRunID, info.GetExecution().GetRunId())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
	require.Equal(t, "Greet", info.GetType().GetName())

	var again string
	require.NoError(t, c2.GetWorkflow(ctx, "greet-1", firstRunID).Get(ctx, &again))
	require.Equal(t, "hello hookd!", again)

	require.False(t, requestEagerStart(t, ctx, c2, srv2.Namespace(), "eager-2"))
	require.NoError(t, srv2.Stop())
}

func TestStartRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	_, err := Start(ctx, Config{})
	require.ErrorContains(t, err, "DataDir is required")
	_, err = Start(ctx, Config{DataDir: t.TempDir(), IP: "localhost"})
	require.ErrorContains(t, err, "not an IP address")
	_, err = Start(ctx, Config{DataDir: t.TempDir(), UIPort: -2})
	require.ErrorContains(t, err, "UIPort")
}

func TestStartFailsOnBusyUIPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	dir := t.TempDir()
	_, err = Start(context.Background(), Config{DataDir: dir, UIPort: ln.Addr().(*net.TCPAddr).Port})
	require.ErrorContains(t, err, "web UI port")
	// The failed Start released the data dir lock.
	f, err := lockDataDir(dir)
	require.NoError(t, err)
	require.NoError(t, unlockDataDir(f))
}

func TestStartFailsOnBusyFrontendPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	_, err = Start(context.Background(), Config{
		DataDir: t.TempDir(), UIPort: -1, FrontendPort: ln.Addr().(*net.TCPAddr).Port,
	})
	require.ErrorContains(t, err, "frontend port")
}

func TestEnsureSchemaIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DBFileName)
	pragmas := map[string]string{"journal_mode": "wal", "synchronous": "normal"}
	created, err := ensureSchema(ctx, path, pragmas, false)
	require.NoError(t, err)
	require.True(t, created)
	created, err = ensureSchema(ctx, path, pragmas, false)
	require.NoError(t, err)
	require.False(t, created)
	require.Greater(t, len(visibilityIndexes(t, path)), 50, "the bundled schema, untouched")
}

func visibilityIndexes(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL ORDER BY name`)
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

func TestVisibilityFileKeepsOnlyTheIndexesADevServerQueries(t *testing.T) {
	path := filepath.Join(t.TempDir(), VisibilityDBFileName)
	created, err := ensureSchema(context.Background(), path, nil, true)
	require.NoError(t, err)
	require.True(t, created)
	want := slices.Clone(keptVisibilityIndexes)
	slices.Sort(want)
	require.Equal(t, want, visibilityIndexes(t, path))
}

func TestVisibilityPathKeepsTheLayoutOfADataDirMadeBeforeTheSplit(t *testing.T) {
	fresh := t.TempDir()
	p, err := visibilityPath(fresh)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(fresh, VisibilityDBFileName), p)

	legacy := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(legacy, DBFileName), nil, 0o600))
	p, err = visibilityPath(legacy)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(legacy, DBFileName), p, "visibility stays where its rows are")

	split := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(split, DBFileName), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(split, VisibilityDBFileName), nil, 0o600))
	p, err = visibilityPath(split)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(split, VisibilityDBFileName), p)
}

type recordHandler struct {
	slog.Handler
	records *[]slog.Record
}

func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	*h.records = append(*h.records, r)
	return nil
}

func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recordHandler{Handler: h.Handler.WithAttrs(as), records: h.records}
}

func TestLogLevelMapping(t *testing.T) {
	var recs []slog.Record
	base := slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})
	a := newSlogAdapter(slog.New(recordHandler{Handler: base, records: &recs}))

	a.Debug("debug") // server Debug is below slog Debug: dropped
	a.Info("info", tag.NewStringTag("k", "v"))
	a.Warn("warn")
	a.With(tag.NewStringTag("svc", "x")).Error("error", tag.Error(errors.New("boom")))
	func() {
		defer func() {
			fatal, ok := recover().(*ServerFatalError)
			require.True(t, ok, "Fatal must panic with *ServerFatalError")
			require.Equal(t, "temporal server fatal: cannot bind address=x:1", fatal.Error())
		}()
		a.Fatal("cannot bind", tag.NewStringTag("address", "x:1"))
	}()
	a.stopping.Store(true)
	a.Warn("warn while stopping")

	want := []slog.Level{slog.LevelDebug, slog.LevelWarn, slog.LevelError, slog.LevelError, slog.LevelDebug}
	require.Len(t, recs, len(want))
	for i, r := range recs {
		require.Equal(t, want[i], r.Level, r.Message)
	}
	attrs := func(r slog.Record) map[string]string {
		m := map[string]string{}
		r.Attrs(func(at slog.Attr) bool { m[at.Key] = at.Value.String(); return true })
		return m
	}
	require.Equal(t, map[string]string{"k": "v"}, attrs(recs[0]))
	require.Equal(t, "boom", attrs(recs[2])["error"])
}
