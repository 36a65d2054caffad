// Package devserver runs a complete Temporal server, plus the Temporal Web UI,
// inside the calling process, so that `hookd dev` needs no external services.
//
// The server keeps its state in a SQLite file (Config.DataDir/temporal.db), so
// workflows, namespaces and search attributes survive restarts. The schema is
// created on first start only. By default the database runs with
// journal_mode=WAL and synchronous=NORMAL: measured on this project's dev
// setup that is ~35 workflows/s versus ~12/s with SQLite's defaults (rollback
// journal, synchronous=FULL), and ~85/s versus ~16/s for eagerly started
// workflows without activities. NORMAL under WAL is still crash-safe for the
// process; only an OS crash or power loss can drop the last few commits.
//
// Start takes well under a second (~0.7s on a fresh DataDir including schema
// creation, ~0.3s on an existing one, on 2 cores).
//
// Typical use:
//
//	srv, err := devserver.Start(ctx, devserver.Config{DataDir: dir, FrontendPort: 7233, UIPort: 8233})
//	if err != nil { ... }
//	defer srv.Stop()
//	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace()})
//
// Start, Stop, Start in one process works (the tests do it). Limitations, all
// from the Temporal server / UI libraries:
//   - The server's SQLite plugin keeps one connection per database file open for
//     the life of the process, even after Stop. A later Start on the same DataDir
//     in the same process reuses it.
//   - Stop does not reclaim everything: about 30 goroutines (idle gRPC client
//     connections, a few matching waiters) stay behind per Start/Stop cycle.
//   - The SQLite schema is the one bundled with go.temporal.io/server; there are
//     no migrations for SQLite, so a DataDir created by a different server
//     version may need to be deleted after upgrading the dependency.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/primitives/timestamp"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// DBFileName is the name of the SQLite database inside Config.DataDir.
const DBFileName = "temporal.db"

// VisibilityDBFileName is the SQLite database of the visibility store (the
// lists and search attributes the UI queries). It is a file of its own so
// that visibility writes, about half of the server's writes, do not queue
// behind history writes on the one connection SQLite gives each file. A
// DataDir made before this split keeps visibility in DBFileName.
const VisibilityDBFileName = "visibility.db"

const clusterName = "active"

// Config configures Start. Only DataDir is required.
type Config struct {
	// DataDir holds the server's state (DataDir/temporal.db plus SQLite's -wal
	// and -shm files, and a lock file). Required; created (0o755) if missing.
	// Only one Server may use a DataDir at a time, enforced with a file lock
	// on Unix.
	DataDir string

	// IP the frontend, the internal services and the UI bind to.
	// Default "127.0.0.1". If it is 0.0.0.0 or ::, clients are pointed at the
	// loopback address.
	IP string

	// FrontendPort is the gRPC port SDK clients connect to. 0 picks a free
	// port (tests); `hookd dev` passes 7233 explicitly.
	FrontendPort int

	// HTTPPort is the frontend's HTTP API port (also used for Nexus
	// callbacks). 0 picks a free port, -1 disables the HTTP API.
	HTTPPort int

	// UIPort is the Web UI port. 0 picks a free port, -1 disables the UI.
	UIPort int

	// Namespace is created at start if it does not exist yet (an existing one
	// is left untouched, including its retention). Default "default".
	Namespace string

	// SearchAttributes are custom search attributes the namespace is created
	// with, so they are usable from the first request (an existing namespace
	// is left untouched: add them through the operator API).
	SearchAttributes map[string]enumspb.IndexedValueType

	// Retention of closed workflows in Namespace, only used when the
	// namespace is created. Default 24h, the Temporal default.
	Retention time.Duration

	// NumHistoryShards is fixed when the database is created: on later starts
	// the value persisted in the database wins and this field is ignored.
	// Default 1: SQLite has a single writer, so more shards only add
	// overhead (measured: 1 shard ~85 workflows/s, 4 shards ~62/s).
	NumHistoryShards int32

	// SQLitePragmas are applied to every SQLite connection. nil means
	// {"journal_mode": "wal", "synchronous": "normal"}; a non-nil map
	// replaces the defaults entirely.
	SQLitePragmas map[string]string

	// DynamicConfig holds extra dynamic-config overrides keyed by the
	// dynamic-config key name (e.g. "history.persistenceMaxQPS"); they win
	// over this package's defaults (see DefaultDynamicConfig). Integer
	// settings must be given as int.
	DynamicConfig map[string]any

	// Logger receives the server's logs. The server's Info logs are mapped to
	// slog Debug and its Debug logs to slog Debug-4, because they are very
	// chatty; Warn and Error keep their level. Default: Warn and above to
	// stderr, everything else discarded.
	Logger *slog.Logger
}

// DefaultDynamicConfig returns the dynamic config this package applies before
// Config.DynamicConfig. The caller owns the returned map.
func DefaultDynamicConfig() map[string]any {
	return map[string]any{
		// hookd starts workflows with EnableEagerStart: the first workflow task
		// is returned inline by StartWorkflowExecution, skipping matching.
		// The server default is true in v1.32; set explicitly because hookd
		// relies on it.
		"system.enableEagerWorkflowStart": true,
		// Not set: system.forceSearchAttributesCacheRefreshOnRead. It makes
		// every start and every search-attribute upsert read the namespace
		// and the cluster metadata from SQLite under a global lock, which
		// measured as the largest cost hookd had over a workflow without
		// search attributes. Search attributes given in Config are created
		// with the namespace instead, and ones added later through the
		// operator API reach the namespace cache within its 2 s refresh.
		//
		// Raise the per-host persistence rate limits (keeping their default
		// ratio) so a busy dev server is limited by SQLite, not by the rate
		// limiter.
		"frontend.persistenceMaxQPS": 10000,
		"history.persistenceMaxQPS":  45000,
		"matching.persistenceMaxQPS": 45000,
		// The UI lists and counts workflows through visibility APIs; the
		// default 10 rps per namespace throttles it while hookd is busy.
		"frontend.namespaceRPS.visibility": 100,
		// Default mutable-state cache is 128k entries: far more memory than a
		// dev box should spend.
		"history.hostLevelCacheMaxSize": 8192,
		// Read the visibility task queue 5 times a second, up to 1,000 tasks
		// a read (defaults: 20/s, 100). A workflow that closes before its
		// start record is read never has that record written (the server
		// skips it and writes only the close), and a visibility write is the
		// costliest thing a delivery does on SQLite; most deliveries close
		// within the 200 ms this allows. The UI sees a workflow up to ~200 ms
		// later, and the larger batch keeps the ceiling at 5,000 tasks/s.
		// Measured with hookd-bench (BENCHMARKS.md).
		"history.visibilityProcessorMaxPollRPS": 5,
		"history.visibilityTaskBatchSize":       1000,
		// The server never stops the SDK workers behind these background jobs
		// (server v1.32.1, scanner.go: "Nothing is gracefully stopping these
		// workers"), so every Stop leaked ~75 goroutines polling the dead
		// frontend forever, and after an in-process restart on the same port
		// they would poll the new server. Their work is expendable here: the
		// task-queue and history scanners clean up long-dead rows (history
		// scanner only touches data older than 60 days), and without the
		// parent-close-policy worker the history service applies parent
		// close policies inline, which is what it does for small fan-outs
		// anyway.
		"worker.taskQueueScannerEnabled":       false,
		"worker.historyScannerEnabled":         false,
		"system.enableParentClosePolicyWorker": false,
	}
}

// Server is a running in-process Temporal dev server. Create it with Start.
type Server struct {
	frontendHostPort string
	httpHostPort     string
	uiURL            string
	namespace        string

	temporal temporal.Server
	logger   slogAdapter
	ui       *uiServer
	lock     *os.File

	stopOnce sync.Once
	stopErr  error
}

// Start starts the Temporal server (and UI unless disabled) and returns once
// the frontend accepts gRPC calls and the namespace is visible through it.
// ctx bounds the wait for readiness; when it is done, Start stops what it
// started and returns ctx's error. On an empty DataDir Start creates the
// schema first.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	lock, err := openDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{lock: lock, namespace: cfg.Namespace, logger: newSlogAdapter(cfg.Logger)}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()

	dbPath, visPath, err := ensureSchemas(ctx, cfg)
	if err != nil {
		return nil, err
	}
	internal, err := cfg.assignPorts()
	if err != nil {
		return nil, err
	}

	host := dialHost(cfg.IP)
	s.frontendHostPort = net.JoinHostPort(host, strconv.Itoa(cfg.FrontendPort))
	if cfg.HTTPPort > 0 {
		s.httpHostPort = net.JoinHostPort(host, strconv.Itoa(cfg.HTTPPort))
	}

	// Bind the UI port before starting anything expensive so that a clash
	// (e.g. another dev server on 8233) fails fast with a clear error.
	uiLn, err := cfg.listenUI()
	if err != nil {
		return nil, err
	}
	if uiLn != nil {
		defer func() {
			if s.ui == nil {
				_ = uiLn.Close()
			}
		}()
	}

	sqlConf := cfg.sqlConfig(dbPath)
	if err := cfg.createNamespace(sqlConf); err != nil {
		return nil, err
	}

	if s.temporal, err = cfg.startTemporal(sqlConf, cfg.sqlConfig(visPath), s, internal); err != nil {
		return nil, err
	}

	if err := waitReady(ctx, s.frontendHostPort, cfg.Namespace); err != nil {
		return nil, err
	}

	if err := s.serveUI(uiLn, host, cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// serveUI starts the UI on uiLn, if the UI is on (uiLn not nil), and records
// its URL on host.
func (s *Server) serveUI(uiLn net.Listener, host string, cfg Config) error {
	if uiLn == nil {
		return nil
	}
	var err error
	if s.ui, err = startUI(uiLn, s.frontendHostPort, cfg.Namespace, cfg.Logger); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(uiLn.Addr().String())
	s.uiURL = "http://" + net.JoinHostPort(host, port)
	return nil
}

// openDataDir creates the data dir if needed and locks it for this process.
func openDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("devserver: create data dir: %w", err)
	}
	return lockDataDir(dir)
}

// ensureSchemas creates the schema of the data dir's databases where it is
// missing, and returns their paths (one path when the data dir predates the
// split of visibility into a file of its own).
func ensureSchemas(ctx context.Context, cfg Config) (dbPath, visPath string, err error) {
	dbPath = filepath.Join(cfg.DataDir, DBFileName)
	if visPath, err = visibilityPath(cfg.DataDir); err != nil {
		return "", "", err
	}
	// The visibility file first: a data dir that has temporal.db but no
	// visibility.db is taken for one made before the split.
	if visPath != dbPath {
		if _, err := ensureSchema(ctx, visPath, cfg.SQLitePragmas, true); err != nil {
			return "", "", err
		}
	}
	if _, err := ensureSchema(ctx, dbPath, cfg.SQLitePragmas, false); err != nil {
		return "", "", err
	}
	return dbPath, visPath, nil
}

// assignPorts checks that the explicit frontend and HTTP ports are free (a
// clear, early error if another dev server holds 7233), picks free ports
// for those left at 0, and returns the internal services' ports.
func (c *Config) assignPorts() (map[primitives.ServiceName]int, error) {
	for _, p := range []struct {
		name string
		port int
	}{{"frontend", c.FrontendPort}, {"HTTP", c.HTTPPort}} {
		if p.port > 0 {
			if err := checkPortFree(c.IP, p.port); err != nil {
				return nil, &PortError{Port: p.name, Err: err}
			}
		}
	}
	// Ports: frontend gRPC, history, matching, worker (internal gRPC), frontend HTTP.
	need := 3
	if c.FrontendPort == 0 {
		need++
	}
	if c.HTTPPort == 0 {
		need++
	}
	ports, err := freePorts(c.IP, need)
	if err != nil {
		return nil, err
	}
	next := func() int { p := ports[0]; ports = ports[1:]; return p }
	if c.FrontendPort == 0 {
		c.FrontendPort = next()
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = next()
	}
	return map[primitives.ServiceName]int{
		primitives.HistoryService:  next(),
		primitives.MatchingService: next(),
		primitives.WorkerService:   next(),
	}, nil
}

// listenUI binds the web UI's port; nil when the UI is disabled.
func (c *Config) listenUI() (net.Listener, error) {
	if c.UIPort < 0 {
		return nil, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.IP, strconv.Itoa(c.UIPort)))
	if err != nil {
		return nil, &PortError{Port: "web UI", Err: err}
	}
	return ln, nil
}

// FrontendHostPort is the gRPC address for SDK clients, e.g. "127.0.0.1:7233".
func (s *Server) FrontendHostPort() string { return s.frontendHostPort }

// HTTPHostPort is the frontend's HTTP API address, or "" when disabled.
func (s *Server) HTTPHostPort() string { return s.httpHostPort }

// PortError is a port of the server's that could not be had (another
// process listens on it): Port names which ("frontend", "HTTP", "web UI").
type PortError struct {
	Port string
	Err  error
}

func (e *PortError) Error() string { return "devserver: " + e.Port + " port: " + e.Err.Error() }
func (e *PortError) Unwrap() error { return e.Err }

// UIURL is the Web UI base URL, e.g. "http://127.0.0.1:8233", or "" when the UI
// is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace that Start ensured exists.
func (s *Server) Namespace() string { return s.namespace }

// Stop shuts down the UI and the Temporal server and releases the DataDir
// lock. It is safe to call more than once (and concurrently); later calls
// return the first call's result. Start may be called again afterwards, with
// the same or another DataDir.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.ui != nil {
			if err := s.ui.stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop web UI: %w", err))
			}
		}
		if s.temporal != nil {
			s.logger.stopping.Store(true)
			if err := s.temporal.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop temporal server: %w", err))
			}
		}
		if s.lock != nil {
			if err := unlockDataDir(s.lock); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			s.stopErr = fmt.Errorf("devserver: %w", err)
		}
	})
	return s.stopErr
}

func (c *Config) setDefaults() error {
	if c.DataDir == "" {
		return errors.New("devserver: Config.DataDir is required")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("devserver: data dir: %w", err)
	}
	c.DataDir = abs
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if net.ParseIP(c.IP) == nil {
		return fmt.Errorf("devserver: Config.IP %q is not an IP address", c.IP)
	}
	if c.FrontendPort < 0 || c.FrontendPort > 65535 {
		return fmt.Errorf("devserver: invalid FrontendPort %d", c.FrontendPort)
	}
	if c.HTTPPort < -1 || c.HTTPPort > 65535 {
		return fmt.Errorf("devserver: invalid HTTPPort %d", c.HTTPPort)
	}
	if c.UIPort < -1 || c.UIPort > 65535 {
		return fmt.Errorf("devserver: invalid UIPort %d", c.UIPort)
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.NumHistoryShards <= 0 {
		c.NumHistoryShards = 1
	}
	if c.SQLitePragmas == nil {
		c.SQLitePragmas = map[string]string{"journal_mode": "wal", "synchronous": "normal"}
	}
	if c.Logger == nil {
		c.Logger = defaultLogger()
	}
	return nil
}

func (c *Config) sqlConfig(dbPath string) *config.SQL {
	attrs := map[string]string{"mode": "rwc"}
	maps.Copy(attrs, c.SQLitePragmas)
	return &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      dbPath,
		ConnectAttributes: attrs,
	}
}

// createNamespace inserts the namespace straight into the database (a no-op if
// it exists), so it is there the moment the frontend starts.
func (c *Config) createNamespace(sqlConf *config.SQL) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, c.Namespace, false, c.SearchAttributes)
	if err != nil {
		return fmt.Errorf("devserver: namespace %q: %w", c.Namespace, err)
	}
	ns.Detail.Config.Retention = timestamp.DurationPtr(c.Retention)
	if err := sqliteschema.CreateNamespaces(sqlConf, ns); err != nil {
		return fmt.Errorf("devserver: create namespace %q: %w", c.Namespace, err)
	}
	return nil
}

// startTemporal creates and starts the server. A Fatal log from the server
// during start-up (it panics, see ServerFatalError) becomes an error.
func (c *Config) startTemporal(sqlConf, visConf *config.SQL, s *Server, internal map[primitives.ServiceName]int) (srv temporal.Server, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fatal, ok := r.(*ServerFatalError)
		if !ok {
			panic(r)
		}
		err = fmt.Errorf("devserver: start temporal server: %w", fatal)
		if srv != nil {
			// Best effort: release whatever had started.
			func() {
				defer func() { _ = recover() }()
				_ = srv.Stop()
			}()
		}
		srv = nil
	}()
	if srv, err = c.newTemporal(sqlConf, visConf, s, internal); err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		// fx has already rolled back whatever had started.
		return nil, fmt.Errorf("devserver: start temporal server: %w", err)
	}
	return srv, nil
}

func (c *Config) newTemporal(sqlConf, visConf *config.SQL, s *Server, internal map[primitives.ServiceName]int) (temporal.Server, error) {
	conf, hosts := c.serverConfig(sqlConf, visConf, s, internal)
	logger := s.logger
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devserver: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("devserver: claim mapper: %w", err)
	}

	dynClient := c.dynamicConfig(s)

	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynClient),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: create temporal server: %w", err)
	}
	return srv, nil
}

// serverConfig is the Temporal server's configuration: SQLite stores, one
// cluster, the frontend on the configured ports and the internal services
// on theirs, archival off.
func (c *Config) serverConfig(sqlConf, visConf *config.SQL, s *Server,
	internal map[primitives.ServiceName]int) (*config.Config, map[primitives.ServiceName]static.Hosts) {
	host := dialHost(c.IP)
	hp := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite-visibility"
	conf.Persistence.NumHistoryShards = c.NumHistoryShards
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}, "sqlite-visibility": {SQL: visConf}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             s.frontendHostPort,
				HTTPAddress:            s.httpHostPort,
				// Only used when the cluster metadata is first written;
				// afterwards the persisted ID wins.
				ClusterID: primitives.NewUUID().String(),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	frontend := config.Service{}
	frontend.RPC.BindOnIP = c.IP
	frontend.RPC.GRPCPort = c.FrontendPort
	if c.HTTPPort > 0 {
		frontend.RPC.HTTPPort = c.HTTPPort
	}
	conf.Services = map[string]config.Service{string(primitives.FrontendService): frontend}
	hosts := map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(s.frontendHostPort),
	}
	for name, port := range internal {
		var svc config.Service
		svc.RPC.BindOnIP = c.IP
		svc.RPC.GRPCPort = port
		conf.Services[string(name)] = svc
		hosts[name] = static.SingleLocalHost(hp(port))
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = s.frontendHostPort
	return &conf, hosts
}

// dynamicConfig is DefaultDynamicConfig, with Nexus callbacks pointed at
// this frontend's HTTP API, and the Config's overrides on top.
func (c *Config) dynamicConfig(s *Server) dynamicconfig.StaticClient {
	dc := DefaultDynamicConfig()
	if s.httpHostPort != "" {
		// Nexus operations call back into this frontend's HTTP API.
		tmpl := "http://" + s.httpHostPort + "/namespaces/{{.NamespaceName}}/nexus/callback"
		dc["component.nexusoperations.callback.endpoint.template"] = tmpl
		dc["nexusoperation.callback.endpoint.template"] = tmpl
		dc["callback.allowedAddresses"] = []map[string]any{
			{"Pattern": s.httpHostPort, "AllowInsecure": true},
		}
	}
	maps.Copy(dc, c.DynamicConfig)
	dynClient := make(dynamicconfig.StaticClient, len(dc))
	for k, v := range dc {
		dynClient[dynamicconfig.MakeKey(k)] = v
	}
	return dynClient
}

// waitReady polls the frontend until DescribeNamespace succeeds.
func waitReady(ctx context.Context, hostPort, namespace string) error {
	conn, err := grpc.NewClient(hostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("devserver: dial frontend: %w", err)
	}
	defer func() { _ = conn.Close() }()
	wf := workflowservice.NewWorkflowServiceClient(conn)

	var lastErr error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := wf.DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		cancel()
		switch state := resp.GetNamespaceInfo().GetState(); {
		case err != nil:
			lastErr = err
		case state == enumspb.NAMESPACE_STATE_REGISTERED:
			return nil
		default:
			// E.g. deleted by a user in an earlier run; the row exists, so
			// Start does not recreate it.
			lastErr = fmt.Errorf("namespace %q is in state %v", namespace, state)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: waiting for frontend %s: %w (last error: %v)", hostPort, ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
