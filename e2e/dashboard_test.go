package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// chromiumPath is where scripts/test-services.sh has Debian install Chromium.
const chromiumPath = "/usr/bin/chromium"

// browserTab starts headless Chromium and answers a tab of it. Without
// Chromium the test is skipped, except under CI, where it fails: CI runs
// scripts/test-services.sh, which installs it.
func browserTab(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; scripts/test-services.sh installs it (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing: run scripts/test-services.sh to install Chromium for the dashboard's browser test", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "start Chromium")
	return tab
}

// tab drives one browser tab against one hookd, with a time limit per step.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	// shots, when set (HOOKD_SCREENSHOTS_DIR), is where screenshots go.
	shots string
}

// do runs browser actions, at most 30 s.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

// open navigates to a dashboard path (or a whole URL) and answers the HTTP status.
func (b *tab) open(path string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = b.base + path
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(target))
	require.NoError(b.t, err, path)
	return int(resp.Status)
}

// submit clicks a button (or link) that loads a page and waits until it
// has replaced the current one (a mark set on the old page is gone, the new one
// has loaded).
func (b *tab) submit(buttonID string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.hookdOldPage = true`))
	require.NoError(b.t, err)
	b.do(chromedp.Click(chromedp.ID(buttonID)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.hookdOldPage !== true && document.readyState === "complete"`))
		if err == nil && loaded {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("clicking #%s loaded no new page within 30 s (last error: %v)", buttonID, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text is the text of the element with this id.
func (b *tab) text(id string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	require.NoError(b.t, err, "#%s", id)
	return s
}

// html is the page's whole markup.
func (b *tab) html() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(b.t, err)
	return s
}

// location is the page's URL.
func (b *tab) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	return s
}

// eventually reloads path until the element with this id holds want.
func (b *tab) eventually(path, id, want string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.open(path)
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.getElementById(`+quoteJS(id)+`)||{}).textContent||""`))
		require.NoError(b.t, err)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: #%s shows %q, not %q, after 30 s", path, id, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// screenshot saves the page as name.png in the screenshots dir, if one is set.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))
}

func quoteJS(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestDashboardInARealBrowser drives the dashboard of a real hookd (the
// embedded Temporal, a loopback receiver) from headless Chromium: an
// operator signs in, creates an endpoint, sends a test event and sees its
// delivery and attempt, pauses the endpoint and sees a new event held,
// unpauses and sees it delivered, retries it, replays the last hour after a
// dry-run count; a portal session of that
// tenant cannot reach another tenant's endpoint or delivery by editing the
// URL; a spent or expired link is refused; a <script> payload shows as text.
//
// HOOKD_SCREENSHOTS_DIR=docs/screenshots (relative to the repository) saves
// the main pages' screenshots there.
func TestDashboardInARealBrowser(t *testing.T) {
	b := &tab{t: t, ctx: browserTab(t), base: hookd.APIURL}
	if dir := os.Getenv("HOOKD_SCREENSHOTS_DIR"); dir != "" {
		b.shots = dir
		if !filepath.IsAbs(dir) {
			b.shots = filepath.Join("..", dir) // relative to the repository, as the test runs in e2e/
		}
		require.NoError(t, os.MkdirAll(b.shots, 0o755))
	}
	c := api(t)
	rcv, healthy := switchableReceiver(t)
	healthy.Store(true)
	tenant := strings.ToLower(models.NewID("acme"))

	ep := operatorCreatesAnEndpoint(b, tenant, rcv.URL)
	first := testEventIsDelivered(b, ep)
	require.Len(t, rcv.requests(), 1)
	held := pausedEndpointHoldsThenDelivers(b, c, ep, tenant)
	retryMakesAnotherAttempt(b, held)
	replayCountsThenRuns(b, ep)
	xssPayloadShowsAsText(b, c, tenant)
	portalSeesItsTenantOnly(b, c, tenant, ep, first)
}

func operatorCreatesAnEndpoint(b *tab, tenant, url string) string {
	t := b.t
	require.Equal(t, http.StatusOK, b.open("/ui/"), "the sign-in page")
	b.screenshot("sign-in")
	b.do(chromedp.SendKeys(chromedp.ID("key"), apiKey))
	b.submit("sign-in")
	require.Contains(t, b.html(), "operator · all tenants")

	b.submit("new-endpoint")
	// A refused URL: the API's message beside the field.
	b.do(chromedp.SendKeys(chromedp.ID("tenant_id"), tenant), chromedp.SendKeys(chromedp.ID("url"), "ftp://nowhere"))
	b.submit("save-endpoint")
	require.Equal(t, "url: must be an http or https URL", b.text("error-url"))
	b.screenshot("endpoint-form-error")
	b.do(chromedp.SetValue(chromedp.ID("url"), url), chromedp.SendKeys(chromedp.ID("description"), "the browser test's receiver"))
	b.submit("save-endpoint")
	ep := b.text("endpoint-id")
	require.True(t, strings.HasPrefix(ep, "ep_"), ep)
	require.Contains(t, b.text("endpoint-state"), "active")

	b.submit("reveal-secret")
	require.True(t, strings.HasPrefix(b.text("secret"), "whsec_"))
	require.NotContains(t, b.location(), "whsec_", "the secret is never in a URL")
	return ep
}

func testEventIsDelivered(b *tab, ep string) string {
	t := b.t
	b.open("/ui/endpoints/" + ep)
	b.submit("send-test")
	dlv := b.text("delivery-id")
	b.eventually("/ui/deliveries/"+dlv, "delivery-status", "succeeded")
	require.Contains(t, b.text("attempt-1"), "schedule")
	require.Contains(t, b.text("attempt-1"), "200")
	require.Contains(t, b.html(), "Webhook-Signature", "the headers sent")
	b.screenshot("delivery")
	temporalUIShowsTheWorkflow(b)
	return dlv
}

// temporalUIShowsTheWorkflow follows the delivery page's link to the
// Temporal UI (the embedded one), which lists the delivery's workflow.
func temporalUIShowsTheWorkflow(b *tab) {
	t := b.t
	link, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("temporal-link").href`))
	require.NoError(t, err)
	wid := b.text("workflow-id")
	require.True(t, strings.HasPrefix(wid, "delivery/"), wid)
	require.Equal(t, http.StatusOK, b.open(link))
	require.Eventually(t, func() bool {
		text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		// Once in the filter the link sets, once in the list's row.
		return err == nil && strings.Count(text, wid) >= 2
	}, 30*time.Second, 250*time.Millisecond, "the Temporal UI lists %s", wid)
	b.screenshot("temporal-ui")
}

func pausedEndpointHoldsThenDelivers(b *tab, c *client, ep, tenant string) string {
	t := b.t
	b.open("/ui/endpoints/" + ep)
	b.submit("pause")
	require.Contains(t, b.text("endpoint-state"), "paused")
	out := c.postEvent("browser-held-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"id": "lead_1"}})
	dlv := out["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	b.eventually("/ui/deliveries/"+dlv, "delivery-status", "held")
	b.eventually("/ui/endpoints/"+ep, "held-count", "1")
	b.screenshot("endpoint-paused")
	b.submit("unpause")
	b.eventually("/ui/deliveries/"+dlv, "delivery-status", "succeeded")
	b.open("/ui/deliveries?endpoint_id=" + ep)
	require.Contains(t, b.html(), dlv)
	b.screenshot("deliveries")
	return dlv
}

func retryMakesAnotherAttempt(b *tab, dlv string) {
	b.open("/ui/deliveries/" + dlv)
	b.submit("retry-now")
	b.eventually("/ui/deliveries/"+dlv, "attempt-2", "manual")
}

func replayCountsThenRuns(b *tab, ep string) {
	t := b.t
	b.open("/ui/endpoints/" + ep)
	b.submit("replay-count")
	n := b.text("replay-dry-count")
	require.NotEqual(t, "0", n, "the last hour's finished deliveries are counted")
	b.screenshot("endpoint")
	b.submit("replay-run")
	require.Equal(t, n, b.text("replay-started-count"))
	require.Equal(t, http.StatusOK, b.open("/ui/event-types"))
	b.screenshot("event-types")
}

func xssPayloadShowsAsText(b *tab, c *client, tenant string) {
	t := b.t
	// Sent as raw JSON: the payload is stored as written, with a literal <script>.
	script := `<script>window.hookdXSS=1</script><img src=x onerror='window.hookdXSS=2'>`
	status, out := c.do("POST", "/v1/events", `{"type":"lead.created","tenant_id":"`+tenant+`","payload":{"name":"`+script+`"}}`,
		"Idempotency-Key", "browser-xss-"+tenant)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	dlv := out["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	b.eventually("/ui/deliveries/"+dlv, "delivery-status", "succeeded")
	require.Contains(t, b.text("payload"), script, "shown as text")
	ran, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof window.hookdXSS !== "undefined"`))
	require.NoError(t, err)
	require.False(t, ran, "the payload's script never ran")
}

func portalSeesItsTenantOnly(b *tab, c *client, tenant, ep, dlv string) {
	t := b.t
	other := tenant + "-other"
	otherEP, _ := c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/never", "tenant_id": other, "event_types": []string{"nothing.*"}})
	otherTest := mustStatus(t, c, "POST", "/v1/endpoints/"+otherEP+"/test", map[string]any{}, http.StatusAccepted)
	otherDlv := otherTest["id"].(string)

	link := mustStatus(t, c, "POST", "/v1/portal-sessions", map[string]any{"tenant_id": tenant, "ttl": "10m"}, http.StatusCreated)
	require.Equal(t, http.StatusOK, b.open(link["url"].(string)))
	require.NotContains(t, b.location(), "token", "the token leaves the URL at once")
	require.Equal(t, tenant, b.text("portal-tenant"))
	require.Contains(t, b.html(), ep)
	require.NotContains(t, b.html(), otherEP)
	b.screenshot("portal-endpoints")

	for _, path := range []string{"/ui/endpoints/" + otherEP, "/ui/deliveries/" + otherDlv, "/ui/deliveries?endpoint_id=" + otherEP} {
		require.Equal(t, http.StatusNotFound, b.open(path), path)
		require.NotContains(t, b.html(), "127.0.0.1:9/never", path)
	}
	require.Equal(t, http.StatusOK, b.open("/ui/deliveries/"+dlv), "its own delivery")
	require.Equal(t, http.StatusOK, b.open("/ui/deliveries"))
	require.Contains(t, b.html(), dlv, "the portal lists its own deliveries")
	require.NotContains(t, b.html(), otherDlv)

	// Revoked by the SaaS, the open portal answers 401 from its next page on;
	// an unknown id is 404.
	mustStatus(t, c, "DELETE", "/v1/portal-sessions/"+link["id"].(string), nil, http.StatusNoContent)
	require.Equal(t, http.StatusUnauthorized, b.open("/ui/endpoints"), "a revoked portal")
	mustStatus(t, c, "DELETE", "/v1/portal-sessions/uis_unknown", nil, http.StatusNotFound)

	// The link is spent; an expired one is refused too.
	require.Equal(t, http.StatusUnauthorized, b.open(link["url"].(string)))
	expired := mustStatus(t, c, "POST", "/v1/portal-sessions", map[string]any{"tenant_id": tenant, "ttl": "1m"}, http.StatusCreated)
	require.NoError(t, hookd.Store.DB().Model(&models.UISession{}).Where("token_hash = ?", operations.HashToken(expired["token"].(string))).
		Update("expires_at", time.Now().Add(-time.Minute).UTC()).Error)
	require.Equal(t, http.StatusUnauthorized, b.open(expired["url"].(string)))
	b.screenshot("portal-expired")
}

func mustStatus(t *testing.T, c *client, method, path string, body any, want int) map[string]any {
	t.Helper()
	status, out := c.do(method, path, body)
	require.Equal(t, want, status, "%s %s: %v", method, path, out)
	return out
}
