// Package metrics holds hookd's Prometheus metrics. Counters and histograms
// are updated where things happen (ingest, attempts, pauses); the gauges of
// paused endpoints and held deliveries are read from the store at scrape time.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
}

// Gauges reads the current paused and held counts.
type Gauges interface {
	CountPausedEndpoints(ctx context.Context) (int64, error)
	CountAllHeld(ctx context.Context) (int64, error)
}

// New creates the collectors; g may be nil (no gauges).
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
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if g != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookd_endpoints_paused", Help: "Endpoints paused now."},
				gauge(g.CountPausedEndpoints)),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookd_deliveries_held", Help: "Deliveries held now."},
				gauge(g.CountAllHeld)),
		)
	}
	return m
}

func gauge(f func(context.Context) (int64, error)) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := f(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}
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
