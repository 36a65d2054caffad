package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
	"github.com/hookd/hookd/operations"
)

// fakeTemporal records the workflows the API starts and the signals it
// sends; it runs nothing. The API under test never needs more.
type fakeTemporal struct {
	mu      sync.Mutex
	started map[string]int // workflow id → starts
	signals []string       // workflow id + " " + signal name
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started == nil {
		f.started = map[string]int{}
	}
	f.started[o.ID]++
	return fakeRun{id: o.ID}, nil
}

func (f *fakeTemporal) SignalWithStartWorkflow(_ context.Context, id, signal string, _ any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	f.signals = append(f.signals, id+" "+signal)
	f.mu.Unlock()
	return fakeRun{id: id}, nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, _, signal string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, id+" "+signal)
	return nil
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) TerminateWorkflow(context.Context, string, string, string, ...any) error {
	return nil
}

func (f *fakeTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, serviceerror.NewNotFound("no workflow runs here")
}

func (f *fakeTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("no workflow runs here")
}

// fakeRun is a started run; the API only reads its id.
type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return "run-" + r.id }

const testKey = "api-test-key-0123456789"

// testAPI is the API under test on one store, with its fake Temporal.
type testAPI struct {
	t        *testing.T
	store    *models.Store
	temporal *fakeTemporal
	handler  http.Handler
}

// onBothStores runs fn once per database backend with an API over a fresh
// store (see modelstest.Backends). deps, when given, adjusts the operations' Deps.
func onBothStores(t *testing.T, fn func(t *testing.T, a *testAPI), deps ...func(*operations.Deps)) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ft := &fakeTemporal{}
		fn(t, &testAPI{t: t, store: s, temporal: ft, handler: newHandler(s, ft, deps...)})
	})
}

// newHandler is the API over s, reaching Temporal through tc; deps adjusts
// the operations' Deps.
func newHandler(s *models.Store, tc engine.Client, deps ...func(*operations.Deps)) http.Handler {
	d := operations.Deps{Store: s, Engine: engine.New(s, tc)}
	for _, f := range deps {
		f(&d)
	}
	return New(Deps{Ops: operations.New(d), APIKeys: []string{testKey}})
}

// do sends a request (body: nil, a string, or a value encoded as JSON) and
// decodes the JSON answer into a map.
func (a *testAPI) do(method, path string, body any, header ...string) (int, map[string]any) {
	a.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(a.t, err)
	}
	req := httptest.NewRequest(method, "http://hookd.test"+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+testKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		require.NoError(a.t, json.Unmarshal(rec.Body.Bytes(), &out), "body: %s", rec.Body.String())
	}
	return rec.Code, out
}

// createEndpoint creates an endpoint and returns its answer.
func (a *testAPI) createEndpoint(body map[string]any) map[string]any {
	a.t.Helper()
	status, out := a.do("POST", "/v1/endpoints", body)
	require.Equal(a.t, http.StatusCreated, status, "%v", out)
	return out
}

// requireError checks an answer is the one error shape with this status, code and field.
func requireError(t *testing.T, status int, out map[string]any, wantStatus int, code, field string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, wantStatus, status, append([]any{"%v"}, out)...)
	e, ok := out["error"].(map[string]any)
	require.True(t, ok, "an error answer: %v", out)
	require.Equal(t, code, e["code"], msgAndArgs...)
	require.NotEmpty(t, e["message"], msgAndArgs...)
	if field == "" {
		require.NotContains(t, e, "field", msgAndArgs...)
	} else {
		require.Equal(t, field, e["field"], msgAndArgs...)
	}
}
