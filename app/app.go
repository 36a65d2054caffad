// Package app wires hookd's parts together for each process mode: the
// embedded Temporal server and SQLite in dev, the store, the Temporal client,
// the worker and the HTTP API. cmd/hookd and the end-to-end tests both start
// hookd through it, so the tests run exactly what the binary runs.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/apikey"
	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/temporalsetup"
	"github.com/hookd/hookd/tracing"
	"github.com/hookd/hookd/ui"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

// App is a running hookd process.
type App struct {
	Config   config.Config
	Store    *models.Store
	Temporal client.Client
	// Engine is the one adapter to Temporal, shared by the worker's
	// activities, the reconciler and the operations.
	Engine *engine.Temporal
	// Ops are hookd's operations over the store and the engine; the API
	// (and any other front door) calls them.
	Ops *operations.Ops
	// Dev is the embedded Temporal server (dev mode only).
	Dev *devserver.Server
	// APIURL is where the API listens ("" in worker mode).
	APIURL string
	// DashboardURL is where the dashboard is served, on the API's listener.
	DashboardURL string
	// GeneratedAPIKey is the dev key used when HOOKD_API_KEY is unset,
	// kept in the data dir; NewAPIKey says it was made by this start
	// (false: read back from an earlier one).
	GeneratedAPIKey string
	NewAPIKey       bool
	// Metrics are this process's Prometheus metrics (served at the API's
	// /metrics, and at HOOKD_METRICS_ADDR when set).
	Metrics *metrics.Metrics
	// MetricsURL is where HOOKD_METRICS_ADDR's listener (/metrics, /healthz,
	// /readyz) listens ("" when it is unset).
	MetricsURL     string
	metricsHTTP    *http.Server
	stopReconciler context.CancelFunc
	stopGauges     context.CancelFunc
	// tracing is OpenTelemetry tracing; nil when off (no OTLP endpoint).
	tracing *tracing.Provider

	log    *slog.Logger
	worker sdkworker.Worker
	http   *http.Server
	served chan error
}

// GaugeRefresh is how often a process reads the gauges of paused endpoints
// and held deliveries from the store (two COUNT queries), so that a scrape of
// /metrics reads no database.
const GaugeRefresh = 5 * time.Second

// Start brings up everything cfg.Mode asks for and returns once the API
// accepts connections. On error, whatever was started is stopped again.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{Config: cfg, log: log}
	defer func() {
		if err != nil {
			a.Stop(context.Background())
		}
	}()
	if a.tracing, err = tracing.Start(ctx, cfg.Tracing, serviceName(cfg.Mode)); err != nil {
		return nil, err
	}
	if cfg.Mode == config.ModeDev {
		if err := a.startDevServer(ctx); err != nil {
			return nil, err
		}
	}
	cfg = a.Config // the embedded server may have picked the Temporal address
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.connectTemporal(ctx); err != nil {
		return nil, err
	}
	if err := a.startMetrics(ctx); err != nil {
		return nil, err
	}
	a.Engine = engine.New(a.Store, a.Temporal)
	a.Ops = operations.New(operations.Deps{Store: a.Store, Engine: a.Engine, Logger: log, Metrics: a.Metrics,
		OneEndpointPerTenant: cfg.OneEndpointPerTenant, MaxEndpointsPerTenant: cfg.MaxEndpointsPerTenant,
		OperationalTenant: cfg.OperationalTenant})
	if err := a.Ops.AddOperationalEventTypes(ctx); err != nil {
		return nil, fmt.Errorf("add the operational event types to the catalog: %w", err)
	}
	if cfg.Mode == config.ModeDev || cfg.Mode == config.ModeWorker {
		if err := a.startWorker(); err != nil {
			return nil, err
		}
		if err := a.ensureRetention(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.serveMetrics(); err != nil {
		return nil, err
	}
	if cfg.Mode == config.ModeDev || cfg.Mode == config.ModeAPI {
		if err := a.startAPI(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// openStore opens and migrates the store: HOOKD_DATABASE_URL, or SQLite in the data dir.
func (a *App) openStore(ctx context.Context) (err error) {
	dsn := a.Config.DatabaseURL
	if dsn == "" {
		dsn = models.SQLitePath(a.Config.DataDir)
	}
	if a.Store, err = models.Open(dsn); err != nil {
		return err
	}
	return a.Store.Migrate(ctx)
}

// serviceName is the service.name of a process's spans, unless
// OTEL_SERVICE_NAME says.
func serviceName(mode config.Mode) string {
	if mode == config.ModeDev {
		return "hookd"
	}
	return "hookd-" + string(mode)
}

// connectTemporal dials Temporal, making the namespace first outside dev,
// and registers hookd's search attributes. With tracing on, the client (and
// so the worker) carries the SDK's tracing interceptor.
func (a *App) connectTemporal(ctx context.Context) (err error) {
	cfg := a.Config
	if cfg.Mode != config.ModeDev {
		if err := temporalsetup.EnsureNamespace(ctx, cfg.TemporalOptions(), cfg.Retention); err != nil {
			return err
		}
	}
	opts := cfg.TemporalOptions()
	traced, err := a.tracing.TemporalInterceptor()
	if err != nil {
		return err
	}
	if traced != nil {
		opts.Interceptors = append(slices.Clip(opts.Interceptors), traced)
	}
	if a.Temporal, err = temporalsetup.Dial(ctx, opts, a.log); err != nil {
		return err
	}
	return temporalsetup.RegisterSearchAttributes(ctx, a.Temporal, cfg.TemporalNamespace)
}

// startMetrics makes the metrics and keeps their gauges fresh.
func (a *App) startMetrics(ctx context.Context) error {
	a.Metrics = metrics.New(a.Store)
	if err := a.Metrics.RefreshGauges(ctx); err != nil {
		return fmt.Errorf("read the metrics gauges: %w", err)
	}
	gctx, stopGauges := context.WithCancel(context.Background())
	a.stopGauges = stopGauges
	go a.Metrics.KeepGaugesFresh(gctx, GaugeRefresh, func(err error) {
		a.log.Warn("metrics gauges not refreshed", "error", err)
	})
	return nil
}

// serveMetrics serves /metrics, with the probes /healthz and /readyz, at
// HOOKD_METRICS_ADDR, when set.
func (a *App) serveMetrics() error {
	if a.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("HOOKD_METRICS_ADDR: listen on %s: %w", a.Config.MetricsAddr, err)
	}
	a.MetricsURL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.Metrics.Handler())
	probes(mux, a.Ops)
	a.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := a.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics.serve_failed", "addr", a.Config.MetricsAddr, "error", err)
		}
	}()
	return nil
}

// startAPI serves the REST API over the operations at HOOKD_API_ADDR, with
// the dev API key when no key is configured.
func (a *App) startAPI() error {
	keys := a.Config.APIKeys
	if len(keys) == 0 {
		key, made, err := devAPIKey(a.Config.DataDir)
		if err != nil {
			return err
		}
		a.GeneratedAPIKey, a.NewAPIKey = key, made
		keys = []string{key}
	}
	ln, err := net.Listen("tcp", a.Config.APIAddr)
	if err != nil {
		return fmt.Errorf("HOOKD_API_ADDR: listen on %s: %w", a.Config.APIAddr, err)
	}
	a.APIURL = "http://" + ln.Addr().String()
	a.DashboardURL = a.APIURL + ui.Prefix
	a.http = &http.Server{
		Handler:           a.handler(keys),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	a.served = make(chan error, 1)
	go func() { a.served <- a.http.Serve(ln) }()
	return nil
}

// handler is what the API's listener serves: the dashboard under /ui/, the
// REST API everywhere else.
func (a *App) handler(keys []string) http.Handler {
	restAPI := api.New(api.Deps{Ops: a.Ops, APIKeys: keys, Logger: a.log, Metrics: a.Metrics, PublicURL: a.Config.PublicURL,
		Tracing: a.tracing.Middleware()})
	temporalUI := a.Config.TemporalUIURL
	if temporalUI == "" && a.Dev != nil {
		temporalUI = a.Dev.UIURL()
	}
	dashboard := ui.New(ui.Deps{Ops: a.Ops, Keys: apikey.New(keys), Logger: a.log,
		FrameAncestors: a.Config.PortalFrameAncestors, TemporalUIURL: temporalUI, TemporalNamespace: a.Config.TemporalNamespace})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ui.Prefix) || r.URL.Path == strings.TrimSuffix(ui.Prefix, "/") {
			dashboard.ServeHTTP(w, r)
			return
		}
		restAPI.ServeHTTP(w, r)
	})
}

// startWorker starts the worker, its activities built with the engine, and
// the reconciler.
func (a *App) startWorker() error {
	cfg := a.Config
	d := &activities.Deliverer{
		Store:    a.Store,
		HTTP:     activities.NewHTTPClient(activities.TargetPolicy{AllowPrivate: cfg.AllowPrivate, Allowed: cfg.AllowedPrefixes}),
		Logger:   a.log,
		Reporter: a.Engine,
		Metrics:  a.Metrics,
		Tracer:   a.tracing.Tracer(activities.TracerName),
	}
	n := &activities.Notifier{Store: a.Store, Sender: a.Ops, Tenant: cfg.OperationalTenant, Logger: a.log}
	a.worker = worker.New(worker.Deps{Store: a.Store, Client: a.Temporal, Logger: a.log, Deliverer: d, Engine: a.Engine,
		Notifier: n}, worker.Options{})
	if err := a.worker.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	a.stopReconciler = cancel
	go (&worker.Reconciler{Store: a.Store, Engine: a.Engine, Logger: a.log}).Run(rctx)
	return nil
}

func (a *App) startDevServer(ctx context.Context) error {
	host, portStr, _ := net.SplitHostPort(a.Config.TemporalAddress)
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("HOOKD_TEMPORAL_ADDRESS: bad port %q", portStr)
	}
	a.Dev, err = devserver.Start(ctx, devserver.Config{
		DataDir:      a.Config.DataDir,
		IP:           host,
		FrontendPort: port,
		HTTPPort:     0,
		UIPort:       a.Config.TemporalUIPort,
		Namespace:    a.Config.TemporalNamespace,
		Retention:    temporalsetup.NamespaceRetention(a.Config.Retention),
		// Created with the namespace, so they need no cache refresh.
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           a.log.With("component", "temporal"),
	})
	var pe *devserver.PortError
	if errors.As(err, &pe) {
		// Name the setting that moves the port, as for HOOKD_API_ADDR.
		switch pe.Port {
		case "frontend":
			return fmt.Errorf("HOOKD_TEMPORAL_ADDRESS: %s is taken (another hookd dev or Temporal server?): stop it, or set HOOKD_TEMPORAL_ADDRESS to a free address such as %s: %w",
				a.Config.TemporalAddress, net.JoinHostPort(host, strconv.Itoa(port+1)), err)
		case "web UI":
			return fmt.Errorf("HOOKD_TEMPORAL_UI_PORT: port %d is taken (another hookd dev or Temporal UI?): stop it, set HOOKD_TEMPORAL_UI_PORT to a free port such as %d, or to -1 for no UI: %w",
				a.Config.TemporalUIPort, a.Config.TemporalUIPort+1, err)
		}
	}
	if err != nil {
		return fmt.Errorf("start embedded temporal server: %w", err)
	}
	a.Config.TemporalAddress = a.Dev.FrontendHostPort()
	return nil
}

// Served reports the API server's end (nil channel outside api/dev).
func (a *App) Served() <-chan error { return a.served }

// Stop shuts down in reverse order: the API stops taking requests and
// finishes the ones in flight, the worker finishes its in-flight tasks, then
// the client, the embedded server and the store close, and the spans not
// yet exported are flushed.
func (a *App) Stop(ctx context.Context) {
	if a.http != nil {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_ = a.http.Shutdown(sctx)
		cancel()
	}
	if a.metricsHTTP != nil {
		_ = a.metricsHTTP.Close()
	}
	if a.stopReconciler != nil {
		a.stopReconciler()
	}
	if a.stopGauges != nil {
		a.stopGauges()
	}
	if a.worker != nil {
		a.worker.Stop()
	}
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.Dev != nil {
		if err := a.Dev.Stop(); err != nil {
			a.log.Warn("embedded temporal server stop", "error", err)
		}
	}
	if a.Store != nil {
		_ = a.Store.Close()
	}
	// Last, so the spans of everything above are sent.
	if err := a.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("tracing.flush_failed", "error", err)
	}
}

// devAPIKey reads the dev API key kept in the data dir, or makes one; made
// says it was made now.
func devAPIKey(dataDir string) (key string, made bool, err error) {
	path := filepath.Join(dataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), false, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read dev API key: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", false, err
	}
	key = "hk_dev_" + base64.RawURLEncoding.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write dev API key: %w", err)
	}
	return key, true, nil
}
