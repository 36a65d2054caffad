package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/api"
	"github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	"github.com/temporalio/ui-server/v2/ui"
)

// uiServer is the Temporal Web UI served in-process.
//
// We do not use uiserver.NewServer/Start from ui-server/v2 directly: its Start
// binds the port itself and calls the echo logger's Fatal (os.Exit) when the
// bind fails, which would kill all of hookd on a simple port clash, and it
// cannot report the port it picked for ":0". Instead we assemble the same echo
// handler from the package's exported building blocks and serve it on a
// listener we bound ourselves, so errors come back from Start.
type uiServer struct {
	http   *http.Server
	ln     net.Listener
	cfg    *uiconfig.ConfigProviderWithRefresh
	served chan struct{}
}

// startUI serves the UI on the already bound ln, proxying API calls to
// frontendHostPort over gRPC.
func startUI(ln net.Listener, frontendHostPort, namespace string, logger *slog.Logger) (*uiServer, error) {
	conf := &uiconfig.Config{
		TemporalGRPCAddress: frontendHostPort,
		Host:                dialHost(ln.Addr().(*net.TCPAddr).IP.String()),
		Port:                ln.Addr().(*net.TCPAddr).Port,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		// Plain HTTP on localhost: the CSRF cookie must not require HTTPS.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		HideLogs:         true,
		DisableNewsFetch: true,
	}
	if err := conf.Validate(); err != nil {
		return nil, fmt.Errorf("devserver: ui config: %w", err)
	}
	// RefreshInterval is zero, so this starts no background goroutine.
	cfgProvider, err := uiconfig.NewConfigProviderWithRefresh(conf)
	if err != nil {
		return nil, fmt.Errorf("devserver: ui config: %w", err)
	}
	e, err := uiHandler(conf, cfgProvider)
	if err != nil {
		return nil, err
	}

	s := &uiServer{
		http: &http.Server{
			Handler:           e,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		},
		ln:     ln,
		cfg:    cfgProvider,
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("web UI server stopped", "error", err)
		}
	}()
	return s, nil
}

// uiHandler is the UI server's handler: the ui-server package's middleware
// and routes, with the embedded assets.
func uiHandler(conf *uiconfig.Config, cfgProvider *uiconfig.ConfigProviderWithRefresh) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, auth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   cfgProvider,
	}))
	e.Use(middleware.Secure())
	const cookieSecure = false
	e.Use(csrf.EnsureTokenCookie(cookieSecure))
	e.Use(middleware.CSRFWithConfig(csrf.MiddlewareConfig(cfgProvider, cookieSecure)))
	e.Pre(route.PublicPath(conf.PublicPath))

	route.SetHealthRoute(e)
	apiMiddleware := []api.Middleware{
		headers.WithForwardHeaders([]string{auth.AuthorizationExtrasHeader, "Caller-Type"}),
	}
	if err := route.SetAPIRoutes(e, cfgProvider, apiMiddleware); err != nil {
		return nil, fmt.Errorf("devserver: ui api routes: %w", err)
	}
	route.SetAuthRoutes(e, cfgProvider)

	assets, err := ui.Assets()
	if err != nil {
		return nil, fmt.Errorf("devserver: ui assets: %w", err)
	}
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, fmt.Errorf("devserver: ui assets: %w", err)
	}
	if err := route.SetUIRoutes(e, conf.PublicPath, assets); err != nil {
		return nil, fmt.Errorf("devserver: ui routes: %w", err)
	}
	route.SetRenderRoute(e, conf.PublicPath)
	return e, nil
}

// stop closes the listener and all connections. Open UI pages just lose their
// connection, there is nothing worth draining.
func (s *uiServer) stop() error {
	err := s.http.Close()
	<-s.served
	s.cfg.Close()
	return err
}
