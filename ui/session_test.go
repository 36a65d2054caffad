package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

func TestOperatorSignsInWithAnAPIKey(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		p := b.get("/ui/endpoints")
		require.Equal(t, http.StatusSeeOther, p.Status, "no session: sign in first")
		require.Equal(t, "/ui/login", p.Header.Get("Location"))

		login := b.get("/ui/login")
		wrong := b.post("/ui/login", url.Values{"csrf": {login.csrf(t)}, "key": {"not-the-key-0123456789"}})
		require.Equal(t, http.StatusUnauthorized, wrong.Status)
		contains(t, wrong.Body, "That is not an API key of this hookd.")

		login = b.get("/ui/login")
		ok := b.post("/ui/login", url.Values{"csrf": {login.csrf(t)}, "key": {testKey}})
		require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
		cookie := ok.Header.Values("Set-Cookie")
		require.NotEmpty(t, cookie)
		joined := strings.Join(cookie, "\n")
		contains(t, joined, SessionCookie+"=", "HttpOnly", "SameSite=Strict", "Path=/ui")
		require.NotContains(t, e.logs.String(), testKey, "the key is never logged")

		list := b.get("/ui/endpoints")
		require.Equal(t, http.StatusOK, list.Status)
		contains(t, list.Body, "operator · all tenants")
	})
}

func TestSignInNeedsTheFormsCSRFToken(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		p := b.post("/ui/login", url.Values{"key": {testKey}})
		require.Equal(t, http.StatusForbidden, p.Status)
		require.Equal(t, http.StatusSeeOther, b.get("/ui/endpoints").Status, "still signed out")
	})
}

func TestPortalLinkOpensOnceAndLeavesNoTokenInTheURL(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		s, err := e.ops.CreatePortalSession(e.ctx, operations.PortalSessionInput{TenantID: "acme"})
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(time.Hour), s.Session.ExpiresAt, time.Minute, "ttl defaults to 1h")

		b := e.browser()
		p := b.get("/ui/portal?token=" + url.QueryEscape(s.Token))
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		require.Equal(t, "/ui/endpoints", p.Header.Get("Location"), "redirected to a URL without the token")
		require.Equal(t, "no-referrer", p.Header.Get("Referrer-Policy"))
		list := b.get("/ui/endpoints")
		require.Equal(t, http.StatusOK, list.Status)
		contains(t, list.Body, `<b id="portal-tenant">acme</b>`)

		again := e.browser().get("/ui/portal?token=" + url.QueryEscape(s.Token))
		require.Equal(t, http.StatusUnauthorized, again.Status, "a link opens once")
		require.NotContains(t, e.logs.String(), s.Token, "the token is never logged")
		require.NotContains(t, e.logs.String(), "token=", "requests are logged by route, not URL")
	})
}

func TestExpiredForgedAndRevokedSessionsGet401(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		// Expired: a link whose expiry has passed.
		s, err := e.ops.CreatePortalSession(e.ctx, operations.PortalSessionInput{TenantID: "acme", TTL: ptr("1m")})
		require.NoError(t, err)
		require.NoError(t, e.store.DB().Model(&models.UISession{}).Where("id = ?", s.Session.ID).
			Update("expires_at", time.Now().Add(-time.Second).UTC()).Error)
		require.Equal(t, http.StatusUnauthorized, e.browser().get("/ui/portal?token="+url.QueryEscape(s.Token)).Status)

		// Forged: a token hookd never made.
		require.Equal(t, http.StatusUnauthorized, e.browser().get("/ui/portal?token=hks_forged").Status)
		b := e.browser()
		u, _ := url.Parse(e.srv.URL + "/ui/")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: "hks_forged", Path: "/ui"}})
		require.Equal(t, http.StatusUnauthorized, b.get("/ui/endpoints").Status)

		// Revoked: signed out, the old cookie no longer works.
		b = e.browser()
		csrf := b.signIn()
		old := b.c.Jar.Cookies(u)
		require.Equal(t, http.StatusSeeOther, b.post("/ui/logout", url.Values{"csrf": {csrf}}).Status)
		b.c.Jar.SetCookies(u, old)
		require.Equal(t, http.StatusUnauthorized, b.get("/ui/endpoints").Status)
	})
}

func TestPortalSessionInputIsValidated(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		for name, tc := range map[string]struct {
			in    operations.PortalSessionInput
			field string
		}{
			"no tenant":        {operations.PortalSessionInput{}, "tenant_id"},
			"tenant w/ space":  {operations.PortalSessionInput{TenantID: "a b"}, "tenant_id"},
			"ttl over a day":   {operations.PortalSessionInput{TenantID: "acme", TTL: ptr("25h")}, "ttl"},
			"ttl not duration": {operations.PortalSessionInput{TenantID: "acme", TTL: ptr("soon")}, "ttl"},
		} {
			_, err := e.ops.CreatePortalSession(e.ctx, tc.in)
			oe, ok := asInvalid(err)
			require.True(t, ok, "%s: %v", name, err)
			require.Equal(t, tc.field, oe.Field, name)
		}
		var n int64
		require.NoError(t, e.store.DB().Model(&models.UISession{}).Count(&n).Error)
		require.Zero(t, n, "nothing refused is written")
	})
}

func TestEveryPostNeedsTheSessionsCSRFToken(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint("acme")
		b := e.browser()
		csrf := b.signIn()
		for _, path := range []string{"/ui/endpoints/" + ep.ID + "/pause", "/ui/endpoints", "/ui/endpoints/" + ep.ID + "/rotate-secret", "/ui/logout"} {
			p := b.post(path, url.Values{"url": {"https://example.com/x"}, "tenant_id": {"acme"}})
			require.Equal(t, http.StatusForbidden, p.Status, path)
			p = b.post(path, url.Values{"csrf": {csrf + "x"}, "url": {"https://example.com/x"}, "tenant_id": {"acme"}})
			require.Equal(t, http.StatusForbidden, p.Status, path)
		}
		got, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, got.State, "not paused")
		require.Equal(t, ep.Secret, got.Secret, "not rotated")
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{TenantID: "acme"})
		require.NoError(t, err)
		require.Len(t, eps, 1, "none created")
		require.Equal(t, http.StatusOK, b.get("/ui/endpoints").Status, "still signed in")
	})
}

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn()
		for _, path := range []string{"/ui/login", "/ui/endpoints", "/ui/static/app.css", "/ui/nowhere"} {
			p := b.get(path)
			require.Equal(t, "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
				p.Header.Get("Content-Security-Policy"), path)
			require.Equal(t, "no-referrer", p.Header.Get("Referrer-Policy"), path)
			require.Equal(t, "nosniff", p.Header.Get("X-Content-Type-Options"), path)
		}
	}, func(d *Deps) { d.FrameAncestors = []string{"https://app.example.com"} })
}

func TestThePortalMayBeFramedByTheConfiguredOrigins(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		e.portal(b, "acme", false)
		p := b.get("/ui/endpoints")
		require.True(t, strings.HasSuffix(p.Header.Get("Content-Security-Policy"), "frame-ancestors https://app.example.com https://*.example.org"),
			p.Header.Get("Content-Security-Policy"))
	}, func(d *Deps) { d.FrameAncestors = []string{"https://app.example.com", "https://*.example.org"} })
}

func TestAReadOnlyPortalChangesNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint("acme")
		b := e.browser()
		csrf := e.portal(b, "acme", true)
		show := b.get("/ui/endpoints/" + ep.ID)
		require.Equal(t, http.StatusOK, show.Status)
		require.NotContains(t, show.Body, `id="pause"`, "no actions shown")
		p := b.post("/ui/endpoints/"+ep.ID+"/pause", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusForbidden, p.Status)
		got, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, models.EndpointActive, got.State)
	})
}

// A portal's cookie is usable in another site's iframe only where it may be
// framed and is served over TLS; everywhere else it is SameSite=Strict.
func TestAPortalCookieIsPartitionedAndCrossSiteOnlyWhenFramedOverTLS(t *testing.T) {
	overTLS, plain := httptestRequest("https"), httptestRequest("")
	for _, c := range []struct {
		framed bool
		r      *http.Request
		want   string
	}{
		{true, overTLS, "SameSite=None; Partitioned"},
		{true, plain, "SameSite=Strict"},
		{false, overTLS, "SameSite=Strict"},
	} {
		got := (&Server{framed: c.framed}).portalCookie(c.r, "v", time.Hour).String()
		contains(t, got, "HttpOnly", c.want)
		if c.r == overTLS {
			contains(t, got, "Secure")
		}
		if c.want == "SameSite=Strict" {
			require.NotContains(t, got, "Partitioned")
		}
	}
}

func httptestRequest(forwardedProto string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://hookd.test/ui/portal", nil)
	if forwardedProto != "" {
		r.Header.Set("X-Forwarded-Proto", forwardedProto)
	}
	return r
}
