package ui

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/apikey"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// chromium is where scripts/test-services.sh has Debian install Chromium.
const chromium = "/usr/bin/chromium"

// A real browser shows the portal inside an iframe of an origin that
// HOOKD_PORTAL_FRAME_ANCESTORS allows (the session cookie goes along: the
// page is same-site), and refuses to show it in one of any other origin.
func TestThePortalRendersInAnIframeOfAnAllowedOriginOnly(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; scripts/test-services.sh installs it", chromium)
		}
		t.Skipf("%s is missing: run scripts/test-services.sh to install Chromium", chromium)
	}
	s, err := models.Open(t.TempDir() + "/hookd.db")
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	ops := operations.New(operations.Deps{Store: s, Engine: &fakeEngine{store: s}})
	tab := startChromium(t)

	for _, allowed := range []bool{true, false} {
		srv := httptest.NewUnstartedServer(nil)
		origin := "http://" + srv.Listener.Addr().String()
		d := Deps{Ops: ops, Keys: apikey.New(nil), Logger: slog.New(slog.DiscardHandler)}
		if allowed {
			d.FrameAncestors = []string{origin}
		}
		srv.Config.Handler = embedder(New(d), ops, "acme")
		srv.Start()
		t.Cleanup(srv.Close)

		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(origin+"/saas")))
		var shown string
		require.Eventually(t, func() bool {
			shown, err = chromedp.Run(ctx, chromedp.Evaluate[string](framedTenant))
			return err == nil && (shown != "" || !allowed)
		}, 10*time.Second, 100*time.Millisecond)
		cancel()
		if allowed {
			require.Equal(t, "acme", shown, "the portal renders in the iframe")
		} else {
			time.Sleep(time.Second) // give a wrongly allowed frame time to render
			shown, err = chromedp.Run(tab, chromedp.Evaluate[string](framedTenant))
			require.NoError(t, err)
			require.Empty(t, shown, "frame-ancestors 'none' keeps the portal out of the iframe")
		}
	}
}

// framedTenant is the tenant the portal in the iframe shows ("" if none shows).
const framedTenant = `(() => { try { const e = document.getElementById("portal").contentDocument.getElementById("portal-tenant"); return e ? e.textContent : "" } catch (x) { return "" } })()`

// embedder serves the dashboard under /ui/ and, at /saas, a page of "the
// SaaS" that embeds a new portal session of tenant in an iframe.
func embedder(dashboard http.Handler, ops *operations.Ops, tenant string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) {
			dashboard.ServeHTTP(w, r)
			return
		}
		s, err := ops.CreatePortalSession(r.Context(), operations.PortalSessionInput{TenantID: tenant})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>SaaS</title><iframe id="portal" src="/ui/portal?token=%s" width="900" height="600"></iframe>`,
			html.EscapeString(s.Token))
	})
}

// startChromium starts headless Chromium and answers a tab.
func startChromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true))
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "start Chromium")
	return tab
}

// The portal also works inside an iframe of another site (a SaaS on
// saas.example embedding hooks.example), where a browser withholds and
// refuses SameSite=Strict cookies: served over TLS to an allowed frame
// ancestor, the portal's cookie is SameSite=None, Secure and Partitioned
// (CHIPS), so it lives in the embedding site's partition only. Here the
// dashboard is https://127.0.0.1 and the SaaS page http://localhost: two
// sites. The server sees whether the framed portal's pages came with the
// session: the endpoints page answers 200 with it and 303 to sign-in
// without.
func TestThePortalWorksInACrossSiteIframeOverTLS(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; scripts/test-services.sh installs it", chromium)
		}
		t.Skipf("%s is missing: run scripts/test-services.sh to install Chromium", chromium)
	}
	s, err := models.Open(t.TempDir() + "/hookd.db")
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	ops := operations.New(operations.Deps{Store: s, Engine: &fakeEngine{store: s}})

	saas := httptest.NewServer(nil)
	t.Cleanup(saas.Close)
	saasOrigin := "http://localhost:" + strings.Split(saas.Listener.Addr().String(), ":")[1]
	dash := httptest.NewUnstartedServer(nil)
	pages := make(chan int, 16)
	dashboard := New(Deps{Ops: ops, Keys: apikey.New(nil), Logger: slog.New(slog.DiscardHandler), FrameAncestors: []string{saasOrigin}})
	dash.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		dashboard.ServeHTTP(rec, r)
		if r.URL.Path == "/ui/endpoints" {
			pages <- cmp.Or(rec.status, http.StatusOK)
		}
	})
	dash.StartTLS()
	t.Cleanup(dash.Close)
	saas.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := ops.CreatePortalSession(r.Context(), operations.PortalSessionInput{TenantID: "acme"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>SaaS</title><iframe id="portal" src="%s/ui/portal?token=%s" width="900" height="600"></iframe>`,
			dash.URL, html.EscapeString(sess.Token))
	})

	tab := startChromium(t, chromedp.Flag("ignore-certificate-errors", true))
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(saasOrigin+"/saas")))
	select {
	case status := <-pages:
		require.Equal(t, http.StatusOK, status, "the framed portal's page came with its session cookie")
	case <-ctx.Done():
		t.Fatal("the framed portal never asked for its endpoints page")
	}
}
