package ui

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/apikey"
	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/workflows"
)

const testKey = "ui-test-key-0123456789"

// fakeEngine stands in for Temporal: it starts nothing, and applies pause
// and unpause to the store at once, as the endpoint workflow would.
type fakeEngine struct {
	store *models.Store
	mu    sync.Mutex
	again []string
}

func (f *fakeEngine) StartDeliveries(context.Context, *models.Event, []models.Delivery, map[string]*models.Endpoint) error {
	return nil
}

func (f *fakeEngine) StartAgain(_ context.Context, id string, _ engine.Redelivery) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.again = append(f.again, id)
	return true, nil
}

func (f *fakeEngine) RetryNow(context.Context, *models.Delivery) (bool, error) { return false, nil }

func (f *fakeEngine) StartEndpoint(context.Context, *models.Endpoint) error { return nil }

func (f *fakeEngine) SignalEndpoint(ctx context.Context, ep *models.Endpoint, signal string, _ any) error {
	switch signal {
	case workflows.SignalPause:
		now := time.Now().UTC()
		_, err := f.store.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointPaused, PausedAt: &now, PauseReason: "paused by a test"})
		return err
	case workflows.SignalUnpause:
		_, err := f.store.SaveHealth(ctx, ep.ID, models.Health{State: models.EndpointActive, SetFailures: true})
		return err
	}
	return nil
}

func (f *fakeEngine) StopEndpoint(context.Context, string, []models.Delivery) error { return nil }

func (f *fakeEngine) Ready(context.Context) error { return nil }

func (f *fakeEngine) redelivered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.again...)
}

// env is one test's dashboard over a fresh store, and what it logged.
type env struct {
	t      *testing.T
	ctx    context.Context
	ops    *operations.Ops
	store  *models.Store
	engine *fakeEngine
	srv    *httptest.Server
	logs   *syncBuffer
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// onBothStores runs fn against a dashboard on SQLite and on PostgreSQL.
func onBothStores(t *testing.T, fn func(t *testing.T, e *env), deps ...func(*Deps)) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		logs := &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		fe := &fakeEngine{store: s}
		ops := operations.New(operations.Deps{Store: s, Engine: fe, Logger: log})
		d := Deps{Ops: ops, Keys: apikey.New([]string{testKey}), Logger: log,
			TemporalUIURL: "http://127.0.0.1:8233", TemporalNamespace: "default"}
		for _, f := range deps {
			f(&d)
		}
		srv := httptest.NewServer(New(d))
		t.Cleanup(srv.Close)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("the dashboard logged:\n%s", logs.String())
			}
		})
		fn(t, &env{t: t, ctx: context.Background(), ops: ops, store: s, engine: fe, srv: srv, logs: logs})
	})
}

// browser is a client with its own cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &browser{t: e.t, base: e.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer: status, headers and body.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	return read(b.t, resp)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	require.NoError(b.t, err)
	return read(b.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms on a page.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "the page has a form with a CSRF token: %s", p.Body)
	return m[1]
}

// signIn signs an operator in and answers the CSRF token of its session.
func (b *browser) signIn() string {
	b.t.Helper()
	login := b.get("/ui/login")
	require.Equal(b.t, http.StatusOK, login.Status)
	p := b.post("/ui/login", url.Values{"csrf": {login.csrf(b.t)}, "key": {testKey}})
	require.Equal(b.t, http.StatusSeeOther, p.Status, p.Body)
	return b.get("/ui/endpoints").csrf(b.t)
}

// portal opens a new portal link of tenant and answers the session's CSRF token.
func (e *env) portal(b *browser, tenant string, readOnly bool) string {
	e.t.Helper()
	s, err := e.ops.CreatePortalSession(e.ctx, operations.PortalSessionInput{TenantID: tenant, ReadOnly: readOnly})
	require.NoError(e.t, err)
	p := b.get("/ui/portal?token=" + url.QueryEscape(s.Token))
	require.Equal(e.t, http.StatusSeeOther, p.Status, p.Body)
	return b.get("/ui/endpoints").csrf(e.t)
}

func ptr[T any](v T) *T { return &v }

// endpoint creates an endpoint of tenant through the operations.
func (e *env) endpoint(tenant string) *models.Endpoint {
	e.t.Helper()
	ep, err := e.ops.CreateEndpoint(e.ctx, operations.EndpointInput{URL: ptr("https://example.com/" + tenant), TenantID: ptr(tenant)})
	require.NoError(e.t, err)
	return ep
}

// delivery sends a test event to ep and answers its delivery.
func (e *env) delivery(ep *models.Endpoint, payload map[string]any) *models.Delivery {
	e.t.Helper()
	d, err := e.ops.TestEndpoint(e.ctx, ep.ID, operations.TestInput{Payload: payload})
	require.NoError(e.t, err)
	return d
}

// contains requires each part in the page's markup, or in its text
// (html/template writes some characters, like +, as entities).
func contains(t *testing.T, body string, parts ...string) {
	t.Helper()
	text := html.UnescapeString(body)
	for _, p := range parts {
		require.True(t, strings.Contains(body, p) || strings.Contains(text, p), "the page shows %q:\n%s", p, body)
	}
}
