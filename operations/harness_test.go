package operations

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

// fakeEngine records what the operations ask of the engine; it runs no
// workflow. onSignal, when set, stands in for the endpoint workflow.
type fakeEngine struct {
	mu        sync.Mutex
	started   []string // delivery ids, from StartDeliveries
	again     map[string]engine.Redelivery
	retried   []string // delivery ids sent retry-now
	running   bool     // RetryNow finds an open run
	endpoints []string // endpoint ids whose health workflow was started
	signals   []string // endpoint id + " " + signal
	stopped   map[string][]string
	failStart error
	notReady  error
	onSignal  func(ep *models.Endpoint, signal string)
}

func (f *fakeEngine) StartDeliveries(_ context.Context, _ *models.Event, ds []models.Delivery, _ map[string]*models.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failStart != nil {
		return f.failStart
	}
	for _, d := range ds {
		f.started = append(f.started, d.ID)
	}
	return nil
}

func (f *fakeEngine) StartAgain(_ context.Context, id string, r engine.Redelivery) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.again == nil {
		f.again = map[string]engine.Redelivery{}
	}
	f.again[id] = r
	return true, nil
}

func (f *fakeEngine) RetryNow(_ context.Context, d *models.Delivery) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.retried = append(f.retried, d.ID)
	}
	return f.running, nil
}

func (f *fakeEngine) StartEndpoint(_ context.Context, ep *models.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = append(f.endpoints, ep.ID)
	return nil
}

func (f *fakeEngine) SignalEndpoint(_ context.Context, ep *models.Endpoint, signal string, _ any) error {
	f.mu.Lock()
	f.signals = append(f.signals, ep.ID+" "+signal)
	hook := f.onSignal
	f.mu.Unlock()
	if hook != nil {
		hook(ep, signal)
	}
	return nil
}

func (f *fakeEngine) StopEndpoint(_ context.Context, endpointID string, open []models.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped == nil {
		f.stopped = map[string][]string{}
	}
	ids := []string{}
	for _, d := range open {
		ids = append(ids, d.ID)
	}
	f.stopped[endpointID] = ids
	return nil
}

func (f *fakeEngine) Ready(context.Context) error { return f.notReady }

// startedIDs is a copy of the delivery ids started so far.
func (f *fakeEngine) startedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.started...)
}

func (f *fakeEngine) signalsSent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.signals...)
}

// env is what one test needs: the operations over a fresh store, and the
// fake engine behind them.
type env struct {
	t      *testing.T
	ctx    context.Context
	ops    *Ops
	store  *models.Store
	engine *fakeEngine
}

// onBothStores runs fn once per database backend (SQLite in a temp dir,
// PostgreSQL in a schema of its own; see modelstest.Backends) with fresh
// operations; deps, when given, adjusts their Deps.
func onBothStores(t *testing.T, fn func(t *testing.T, e *env), deps ...func(*Deps)) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		fe := &fakeEngine{}
		d := Deps{Store: s, Engine: fe}
		for _, f := range deps {
			f(&d)
		}
		fn(t, &env{t: t, ctx: context.Background(), ops: New(d), store: s, engine: fe})
	})
}

func ptr[T any](v T) *T { return &v }

// endpoint creates an endpoint of tenant through the operations.
func (e *env) endpoint(tenant string, eventTypes ...string) *models.Endpoint {
	e.t.Helper()
	in := EndpointInput{URL: ptr("https://example.com/hook"), TenantID: ptr(tenant)}
	if len(eventTypes) > 0 {
		in.EventTypes = eventTypes
	}
	ep, err := e.ops.CreateEndpoint(e.ctx, in)
	require.NoError(e.t, err)
	return ep
}

// ingest ingests an event of type a.b for tenant under a new key.
func (e *env) ingest(tenant string) models.Ingested {
	e.t.Helper()
	in, err := e.ops.Ingest(e.ctx, EventInput{Type: "a.b", TenantID: tenant, Payload: []byte(`{"n":1}`),
		IdempotencyKey: models.NewID("key")})
	require.NoError(e.t, err)
	return in
}

// setStatus writes a delivery's status directly, as a finished run would.
func (e *env) setStatus(id, status string) {
	e.t.Helper()
	require.NoError(e.t, e.store.DB().Model(&models.Delivery{}).Where("id = ?", id).Update("status", status).Error)
}

// requireKind checks err is an *Error of this kind and field.
func requireKind(t *testing.T, err error, kind Kind, field string) {
	t.Helper()
	var oe *Error
	require.True(t, errors.As(err, &oe), "an *operations.Error: %v", err)
	require.Equal(t, kind, oe.Kind, oe.Message)
	require.Equal(t, field, oe.Field, oe.Message)
	require.NotEmpty(t, oe.Message)
}
