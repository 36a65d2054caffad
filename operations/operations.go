// Package operations holds what hookd does, whoever asks: ingest an event,
// manage endpoints, their secrets and health, the event catalog, retries,
// replays and the Vessel compatibility webhooks. The REST API (package api)
// decodes a request, calls one operation and renders its answer; a dashboard
// calls the same operations. Operations validate their input, keep hookd's
// state in the store (package models) and reach workflows through an Engine
// (engine.Temporal). Errors a caller can act on are *Error.
package operations

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/models"
)

// Store is what the operations need of hookd's store, one small interface
// per use, each declared next to it; *models.Store implements it.
type Store interface {
	EndpointStore
	HealthStore
	EventStore
	DeliveryStore
	EventTypeStore
	PrimaryEndpointStore
	SessionStore
	StatsStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

var _ Store = (*models.Store)(nil)

// Engine is what the operations need of the workflow engine; engine.Temporal
// implements it.
type Engine interface {
	// StartDeliveries starts the workflows of a new event's deliveries
	// (idempotent by workflow id).
	StartDeliveries(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint) error
	// StartAgain starts a new run of a stored delivery's workflow.
	StartAgain(ctx context.Context, deliveryID string, r engine.Redelivery) (bool, error)
	// RetryNow asks a delivery's open run for an attempt now; false if none is open.
	RetryNow(ctx context.Context, d *models.Delivery) (bool, error)
	// StartEndpoint, SignalEndpoint and StopEndpoint drive an endpoint's
	// health workflow (StopEndpoint also its open deliveries' workflows).
	StartEndpoint(ctx context.Context, ep *models.Endpoint) error
	SignalEndpoint(ctx context.Context, ep *models.Endpoint, signal string, arg any) error
	StopEndpoint(ctx context.Context, endpointID string, open []models.Delivery) error
	// Ready checks that the engine answers.
	Ready(ctx context.Context) error
}

var _ Engine = (*engine.Temporal)(nil)

// Deps is everything the operations are built from.
type Deps struct {
	Store  Store
	Engine Engine
	Logger *slog.Logger
	// Metrics, when set, counts accepted events and started deliveries.
	Metrics *metrics.Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OneEndpointPerTenant (HOOKD_ONE_ENDPOINT_PER_TENANT) limits each tenant
	// to one endpoint, through CreateEndpoint and the Vessel webhooks alike.
	OneEndpointPerTenant bool
	// MaxEndpointsPerTenant (HOOKD_MAX_ENDPOINTS_PER_TENANT) bounds each
	// tenant's endpoints, and so the fan-out of one event; 0 means
	// config.DefaultMaxEndpointsPerTenant.
	MaxEndpointsPerTenant int
	// OperationalTenant (HOOKD_OPERATIONAL_TENANT) is the tenant Notify
	// ingests operational webhooks as; config's default when empty.
	OperationalTenant string
}

// Ops runs hookd's operations; it is safe for concurrent use.
type Ops struct {
	store   Store
	engine  Engine
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time
	// oneEndpointPerTenant, maxEndpointsPerTenant: see Deps.
	oneEndpointPerTenant  bool
	maxEndpointsPerTenant int
	operationalTenant     string
	// background bounds the fan-outs started in the background (see startFanOut).
	background chan struct{}
}

// New returns the operations over d.
func New(d Deps) *Ops {
	o := &Ops{store: d.Store, engine: d.Engine, log: d.Logger, metrics: d.Metrics, now: d.Now,
		oneEndpointPerTenant: d.OneEndpointPerTenant, maxEndpointsPerTenant: d.MaxEndpointsPerTenant,
		operationalTenant: d.OperationalTenant, background: make(chan struct{}, backgroundFanOuts)}
	if o.operationalTenant == "" {
		o.operationalTenant = config.DefaultOperationalTenant
	}
	if o.maxEndpointsPerTenant <= 0 {
		o.maxEndpointsPerTenant = config.DefaultMaxEndpointsPerTenant
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}
