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
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/devserver"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

// App is a running hookd process.
type App struct {
	Config   config.Config
	Store    *models.Store
	Temporal client.Client
	// Dev is the embedded Temporal server (dev mode only).
	Dev *devserver.Server
	// APIURL is where the API listens ("" in worker mode).
	APIURL string
	// APIKey is the generated key in dev when HOOKD_API_KEY is unset.
	GeneratedAPIKey string
	// Metrics are this process's Prometheus metrics (served at the API's
	// /metrics, and at HOOKD_METRICS_ADDR when set).
	Metrics        *metrics.Metrics
	metricsHTTP    *http.Server
	stopReconciler context.CancelFunc
	stopGauges     context.CancelFunc

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

	if cfg.Mode == config.ModeDev {
		if err := a.startDevServer(ctx); err != nil {
			return nil, err
		}
	}

	cfg = a.Config // the embedded server may have picked the Temporal address
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = models.SQLitePath(cfg.DataDir)
	}
	if a.Store, err = models.Open(dsn); err != nil {
		return nil, err
	}
	if err := a.Store.Migrate(ctx); err != nil {
		return nil, err
	}

	if cfg.Mode != config.ModeDev {
		if err := EnsureNamespace(ctx, cfg.TemporalAddress, cfg.TemporalNamespace); err != nil {
			return nil, err
		}
	}
	a.Temporal, err = client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(levelFloor{log.Handler(), slog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	if err := RegisterSearchAttributes(ctx, a.Temporal, cfg.TemporalNamespace); err != nil {
		return nil, err
	}
	a.Metrics = metrics.New(a.Store)
	if err := a.Metrics.RefreshGauges(ctx); err != nil {
		return nil, fmt.Errorf("read the metrics gauges: %w", err)
	}
	gctx, stopGauges := context.WithCancel(context.Background())
	a.stopGauges = stopGauges
	go a.Metrics.KeepGaugesFresh(gctx, GaugeRefresh, func(err error) {
		log.Warn("metrics gauges not refreshed", "error", err)
	})

	if cfg.Mode == config.ModeDev || cfg.Mode == config.ModeWorker {
		d := &activities.Deliverer{
			Store:   a.Store,
			HTTP:    activities.NewHTTPClient(activities.TargetPolicy{AllowPrivate: cfg.AllowPrivate, Allowed: cfg.AllowedPrefixes}),
			Logger:  log,
			Metrics: a.Metrics,
		}
		a.worker = worker.New(worker.Deps{Store: a.Store, Client: a.Temporal, Logger: log, Deliverer: d}, worker.Options{})
		if err := a.worker.Start(); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		rctx, cancel := context.WithCancel(context.Background())
		a.stopReconciler = cancel
		go (&worker.Reconciler{Store: a.Store, Client: a.Temporal, Logger: log}).Run(rctx)
	}

	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("HOOKD_METRICS_ADDR: listen on %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", a.Metrics.Handler())
		a.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go a.metricsHTTP.Serve(ln)
	}

	if cfg.Mode == config.ModeDev || cfg.Mode == config.ModeAPI {
		keys := cfg.APIKeys
		if len(keys) == 0 {
			key, err := devAPIKey(cfg.DataDir)
			if err != nil {
				return nil, err
			}
			a.GeneratedAPIKey = key
			keys = []string{key}
		}
		ln, err := net.Listen("tcp", cfg.APIAddr)
		if err != nil {
			return nil, fmt.Errorf("HOOKD_API_ADDR: listen on %s: %w", cfg.APIAddr, err)
		}
		a.APIURL = "http://" + ln.Addr().String()
		handler := api.New(api.Deps{Store: a.Store, Temporal: a.Temporal, APIKeys: keys, Logger: log, Metrics: a.Metrics,
			OneEndpointPerTenant: cfg.OneEndpointPerTenant, MaxEndpointsPerTenant: cfg.MaxEndpointsPerTenant})
		a.http = &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		a.served = make(chan error, 1)
		go func() { a.served <- a.http.Serve(ln) }()
	}
	return a, nil
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
		// Created with the namespace, so they need no cache refresh.
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           a.log.With("component", "temporal"),
	})
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
// the client, the embedded server and the store close.
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
}

// EnsureNamespace registers the namespace on the Temporal cluster if it does
// not exist yet (3 days retention of closed workflows), so a fresh cluster
// needs no manual step. An existing namespace is left as it is.
func EnsureNamespace(ctx context.Context, hostPort, namespace string) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: hostPort})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", hostPort, err)
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, namespace)
	var nf *serviceerror.NamespaceNotFound
	if !errors.As(err, &nf) {
		return err
	}
	retention := 72 * time.Hour
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	// A new namespace takes a moment to reach every frontend's cache.
	for i := 0; i < 50; i++ {
		if _, err = nc.Describe(ctx, namespace); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// RegisterSearchAttributes adds hookd's search attributes to the namespace;
// attributes already there are left alone, so it is safe to repeat.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	var have *operatorservice.ListSearchAttributesResponse
	var err error
	// A namespace registered a moment ago may not have reached every cache yet.
	for try := 0; ; try++ {
		have, err = ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		var nf *serviceerror.NotFound
		var nnf *serviceerror.NamespaceNotFound
		if err == nil || try >= 60 || !(errors.As(err, &nf) || errors.As(err, &nnf)) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := workflows.SearchAttributes()
	for name := range missing {
		if _, ok := have.GetCustomAttributes()[name]; ok {
			delete(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil && !strings.Contains(strings.ToLower(err.Error()), "already") {
		return fmt.Errorf("add search attributes: %w", err)
	}
	// Frontends learn of new attributes when their namespace cache refreshes
	// (every few seconds); until then starts that set them are refused. A
	// query naming every attribute succeeds only once they are known.
	var query []string
	for name := range missing {
		query = append(query, name+" = 'probe'")
	}
	req := &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: strings.Join(query, " AND ")}
	for try := 0; ; try++ {
		if _, err = c.WorkflowService().CountWorkflowExecutions(ctx, req); err == nil {
			return nil
		}
		if try >= 120 {
			return fmt.Errorf("search attributes added but not usable yet: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// devAPIKey reads the dev API key kept in the data dir, or makes one.
func devAPIKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read dev API key: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	key := "hk_dev_" + base64.RawURLEncoding.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write dev API key: %w", err)
	}
	return key, nil
}

// levelFloor drops records below min; used to quieten the SDK's logs.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (l levelFloor) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.Handler.Enabled(ctx, lv)
}
func (l levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{l.Handler.WithAttrs(as), l.min}
}
func (l levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{l.Handler.WithGroup(n), l.min}
}
