package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/ui"
)

// pageClient gets dashboard pages as a signed-in operator.
type pageClient struct {
	base   string
	cookie *http.Cookie
	http   *http.Client
}

// serveDashboard serves the dashboard over the operations scenario (d)'s
// API serves, on a free port, and signs an operator in.
func serveDashboard(ctx context.Context, ops *operations.Ops) (*pageClient, func(), error) {
	sess, err := ops.StartOperatorSession(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard session: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: ui.New(ui.Deps{Ops: ops, Logger: slog.New(slog.DiscardHandler)}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// A redirect is a failure: without a usable session the dashboard
	// sends a page to /ui/login, and timing the login page would pass for
	// timing the dashboard.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &pageClient{base: "http://" + ln.Addr().String(), cookie: &http.Cookie{Name: ui.SessionCookie, Value: sess.Token},
		http: &http.Client{Timeout: time.Minute, CheckRedirect: noRedirect}}
	return c, func() { _ = srv.Close() }, nil
}

// get answers the page's size, or an error unless it answered 200.
func (c *pageClient) get(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.AddCookie(c.cookie)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return len(body), nil
}

// measurePages times the dashboard's pages on scenario (d)'s data set,
// -list-rounds times each after a warm-up: each endpoint's deliveries (a
// page of 50), its page (health, held count, 24 h success rate and the
// chart of attempts per hour), and the endpoints list. Rows holds the
// page's size in bytes.
func (b *bench) measurePages(ctx context.Context, c *pageClient, eps []seeded) []*listCase {
	cases := map[string]*listCase{}
	var order []*listCase
	for round := 0; round <= b.opt.listRounds; round++ {
		for _, p := range dashboardPages(eps) {
			t0 := time.Now()
			size, err := c.get(ctx, p.path)
			d := time.Since(t0)
			if err != nil {
				b.progress("scenario d: dashboard page failed: %v", err)
				b.failed = true
				return order
			}
			if round == 0 {
				continue // warm-up
			}
			lc := cases[p.name]
			if lc == nil {
				lc = &listCase{Name: p.name}
				cases[p.name] = lc
				order = append(order, lc)
			}
			lc.Lat = append(lc.Lat, d)
			lc.Rows = size
		}
	}
	return order
}

// dashboardPage is one page measurePages gets.
type dashboardPage struct{ name, path string }

func dashboardPages(eps []seeded) []dashboardPage {
	var pages []dashboardPage
	for _, e := range eps {
		pages = append(pages,
			dashboardPage{"dashboard: " + e.Name + " endpoint's deliveries (50)", "/ui/deliveries?" + url.Values{"endpoint_id": {e.ID}}.Encode()},
			dashboardPage{"dashboard: " + e.Name + " endpoint's page, 24 h chart", "/ui/endpoints/" + e.ID},
		)
	}
	return append(pages, dashboardPage{"dashboard: endpoints list (12)", "/ui/endpoints"})
}
