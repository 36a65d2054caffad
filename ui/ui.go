// Package ui is hookd's dashboard: server-rendered pages over the same
// operations as the REST API (package operations), for two audiences. An
// operator signs in with an API key and sees every tenant; a tenant opens a
// portal link (POST /v1/portal-sessions) and sees its own resources only,
// possibly inside an iframe of the SaaS that embeds it.
//
// Every page calls *operations.Ops and nothing else: a refused input shows
// the API's own error message beside its field. Tenant scoping happens in
// one place (scope.go): a portal session's tenant is passed into every list
// and every resource of another tenant is not found (404). Every POST checks
// a CSRF token; every answer carries a strict Content-Security-Policy and
// Referrer-Policy: no-referrer; requests are logged by route pattern, never
// by URL, so a portal link's token never reaches a log.
package ui

import (
	"embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd/apikey"
	"github.com/hookd/hookd/operations"
)

//go:embed templates static
var assets embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/ui/"

// Deps is what the dashboard is built from.
type Deps struct {
	Ops *operations.Ops
	// Keys are the API keys an operator may sign in with.
	Keys   *apikey.Set
	Logger *slog.Logger
	// FrameAncestors (HOOKD_PORTAL_FRAME_ANCESTORS) may embed the portal in
	// an iframe; none means no one ('none'). Operator pages are never framed.
	FrameAncestors []string
	// TemporalUIURL, when set, makes each delivery link to its workflow in
	// the Temporal UI, in TemporalNamespace.
	TemporalUIURL     string
	TemporalNamespace string
}

// Server serves the dashboard.
type Server struct {
	ops       *operations.Ops
	keys      *apikey.Set
	log       *slog.Logger
	pages     pages
	portalCSP string
	// framed: origins may embed the portal (HOOKD_PORTAL_FRAME_ANCESTORS).
	framed     bool
	temporalUI string
	namespace  string
}

// New builds the dashboard's handler, to be mounted at Prefix.
func New(d Deps) http.Handler {
	s := &Server{ops: d.Ops, keys: d.Keys, log: d.Logger, pages: parsePages(),
		portalCSP: csp(d.FrameAncestors), framed: len(d.FrameAncestors) > 0, temporalUI: strings.TrimRight(d.TemporalUIURL, "/"), namespace: d.TemporalNamespace}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.keys == nil {
		s.keys = apikey.New(nil)
	}
	mux := http.NewServeMux()
	s.routes(mux)
	return s.guard(mux)
}

// routes is the dashboard's route table.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/", http.FileServerFS(assets)))
	// Sessions: session.go.
	mux.HandleFunc("GET /ui", s.home)
	mux.HandleFunc("GET /ui/{$}", s.home)
	mux.HandleFunc("GET /ui/login", s.loginForm)
	mux.HandleFunc("POST /ui/login", s.login)
	mux.HandleFunc("GET /ui/portal", s.openPortal)
	mux.Handle("POST /ui/logout", s.action(s.logout))
	// Endpoints: endpoints.go.
	mux.Handle("GET /ui/endpoints", s.page(s.listEndpoints))
	mux.Handle("GET /ui/endpoints/new", s.page(s.newEndpoint))
	mux.Handle("POST /ui/endpoints", s.action(s.createEndpoint))
	mux.Handle("GET /ui/endpoints/{id}", s.page(s.showEndpoint))
	mux.Handle("GET /ui/endpoints/{id}/edit", s.page(s.editEndpoint))
	mux.Handle("POST /ui/endpoints/{id}", s.action(s.updateEndpoint))
	mux.Handle("POST /ui/endpoints/{id}/secret", s.action(s.revealSecret))
	mux.Handle("POST /ui/endpoints/{id}/rotate-secret", s.action(s.rotateSecret))
	mux.Handle("POST /ui/endpoints/{id}/pause", s.action(s.pause))
	mux.Handle("POST /ui/endpoints/{id}/unpause", s.action(s.unpause))
	mux.Handle("POST /ui/endpoints/{id}/enable", s.action(s.enable))
	mux.Handle("POST /ui/endpoints/{id}/test", s.action(s.sendTest))
	mux.Handle("POST /ui/endpoints/{id}/replay", s.action(s.replay))
	// The event catalog: catalog.go.
	mux.Handle("GET /ui/event-types", s.page(s.catalog))
	// Deliveries: deliveries.go.
	mux.Handle("GET /ui/deliveries", s.page(s.listDeliveries))
	mux.Handle("GET /ui/deliveries/{id}", s.page(s.showDelivery))
	mux.Handle("POST /ui/deliveries/{id}/retry", s.action(s.retry))
}

// guard sets the security headers of every answer and logs each request by
// its route pattern (never its URL: a portal link's token is in its query).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Content-Security-Policy", csp(nil))
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "(no route)"
		}
		s.log.Debug("ui.request", "route", pattern, "status", rec.status, "latency_ms", time.Since(start).Milliseconds())
	})
}

// csp is the Content-Security-Policy of the dashboard's pages, which the
// given origins may frame ('none' when there are none).
func csp(frameAncestors []string) string {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	return "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors " + ancestors
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
