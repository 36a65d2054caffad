// Package metrics holds hookd's Prometheus metrics. Counters and histograms
// are updated where things happen (ingest, attempts, pauses); the gauges of
// paused endpoints and held deliveries are read from the store by the process
// on an interval (RefreshGauges, KeepGaugesFresh), never by a scrape.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one set of hookd's collectors, registered on its own registry
// (so tests and several instances in one process do not collide).
type Metrics struct {
	Registry *prometheus.Registry

	EventsAccepted     prometheus.Counter
	DeliveriesStarted  prometheus.Counter
	DeliveriesFinished *prometheus.CounterVec // status
	Attempts           *prometheus.CounterVec // outcome: succeeded, failed
	AttemptLatency     *prometheus.HistogramVec
	DeliveriesHeld     prometheus.Counter

	gauges *storeGauges // nil without a Gauges
}

// Gauges reads the current paused and held counts.
type Gauges interface {
	CountPausedEndpoints(ctx context.Context) (int64, error)
	CountAllHeld(ctx context.Context) (int64, error)
}

// New creates the collectors; g may be nil (no gauges). With g, the gauges
// hookd_endpoints_paused and hookd_deliveries_held show what the last
// RefreshGauges read (and are absent until one succeeded): a scrape never
// reads g.
func New(g Gauges) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		EventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_events_accepted_total", Help: "Events accepted by POST /v1/events (idempotent replays not counted)."}),
		DeliveriesStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_deliveries_created_total", Help: "Deliveries created by accepted events."}),
		DeliveriesFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_deliveries_finished_total", Help: "Deliveries that reached a final status."}, []string{"status"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_attempts_total", Help: "HTTP attempts by outcome."}, []string{"outcome"}),
		AttemptLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookd_attempt_duration_seconds", Help: "Time from sending an attempt to its answer (or error).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"outcome"}),
		DeliveriesHeld: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_deliveries_held_total", Help: "Times a delivery was held because its endpoint was paused."}),
	}
	reg.MustRegister(m.EventsAccepted, m.DeliveriesStarted, m.DeliveriesFinished, m.Attempts, m.AttemptLatency, m.DeliveriesHeld,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if g != nil {
		m.gauges = &storeGauges{
			store:  g,
			paused: prometheus.NewDesc("hookd_endpoints_paused", "Endpoints paused now (as last read from the store; hookd reads it every few seconds).", nil, nil),
			held:   prometheus.NewDesc("hookd_deliveries_held", "Deliveries held now (as last read from the store; hookd reads it every few seconds).", nil, nil),
		}
		reg.MustRegister(m.gauges)
	}
	return m
}

// RefreshGauges reads the paused and held counts from the store once. On
// error the gauges keep their last values. Without a Gauges it does nothing.
func (m *Metrics) RefreshGauges(ctx context.Context) error {
	if m == nil || m.gauges == nil {
		return nil
	}
	return m.gauges.refresh(ctx)
}

// KeepGaugesFresh calls RefreshGauges every interval until ctx is done,
// passing its errors to onErr.
func (m *Metrics) KeepGaugesFresh(ctx context.Context, every time.Duration, onErr func(error)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		err := m.RefreshGauges(rctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}

// storeGauges is the collector of the two gauges: it serves both from one
// snapshot, so a scrape sees counts read together.
type storeGauges struct {
	store        Gauges
	paused, held *prometheus.Desc

	mu             sync.Mutex
	read           bool // a refresh has succeeded
	nPaused, nHeld int64
}

func (g *storeGauges) refresh(ctx context.Context) error {
	// Held first: a delivery is held only after its endpoint was paused and
	// released only after it was unpaused, so counts read in this order
	// never show held deliveries without the pause that holds them.
	held, err := g.store.CountAllHeld(ctx)
	if err != nil {
		return err
	}
	paused, err := g.store.CountPausedEndpoints(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.read, g.nPaused, g.nHeld = true, paused, held
	g.mu.Unlock()
	return nil
}

func (g *storeGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.paused
	ch <- g.held
}

func (g *storeGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	read, paused, held := g.read, g.nPaused, g.nHeld
	g.mu.Unlock()
	if !read {
		return
	}
	ch <- prometheus.MustNewConstMetric(g.paused, prometheus.GaugeValue, float64(paused))
	ch <- prometheus.MustNewConstMetric(g.held, prometheus.GaugeValue, float64(held))
}

// ObserveAttempt records one attempt.
func (m *Metrics) ObserveAttempt(succeeded bool, latency time.Duration) {
	if m == nil {
		return
	}
	outcome := "failed"
	if succeeded {
		outcome = "succeeded"
	}
	m.Attempts.WithLabelValues(outcome).Inc()
	m.AttemptLatency.WithLabelValues(outcome).Observe(latency.Seconds())
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
