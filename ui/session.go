package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// Cookie names. The session cookie holds the session's token (the store
// keeps its hash); the login cookie holds the CSRF token of the sign-in
// form, which has no session yet.
const (
	// SessionCookie is the dashboard session's cookie.
	SessionCookie = "hookd_session"
	loginCookie   = "hookd_login"
	cookiePath    = "/ui"
)

// viewer is who asks: an operator (every tenant) or a tenant's portal.
type viewer struct {
	session *models.UISession
	// csrf is the token every form of the session carries.
	csrf string
}

// Tenant is the one tenant a portal session sees; "" for an operator.
func (v *viewer) Tenant() string { return v.session.TenantID }

// Operator reports whether the viewer sees every tenant.
func (v *viewer) Operator() bool { return v.session.Kind == models.SessionOperator }

// ReadOnly reports whether the viewer may only look.
func (v *viewer) ReadOnly() bool { return v.session.ReadOnly }

// CSRF is the token the viewer's forms carry.
func (v *viewer) CSRF() string { return v.csrf }

// csrfToken derives a session's CSRF token from its secret token: it needs
// no storage, and what the store holds (a hash) does not give it away.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("hookd dashboard csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handlerFunc is a dashboard handler for a signed-in viewer; it returns its
// error instead of writing it (see fail).
type handlerFunc func(w http.ResponseWriter, r *http.Request, v *viewer) error

// page serves a GET for a signed-in viewer.
func (s *Server) page(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.viewer(w, r)
		if !ok {
			return
		}
		if err := fn(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	})
}

// action serves a POST for a signed-in viewer whose form carries the
// session's CSRF token; a read-only portal may not post.
func (s *Server) action(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		v, ok := s.viewer(w, r)
		if !ok {
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(v.csrf)) != 1 {
			s.fail(w, r, v, errForbidden("the form is stale or did not come from this dashboard; reload the page and try again"))
			return
		}
		if v.ReadOnly() && r.Pattern != "POST /ui/logout" {
			s.fail(w, r, v, errForbidden("this portal session is read-only"))
			return
		}
		if err := fn(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	})
}

// viewer finds the request's session. Without a session cookie it sends the
// browser to sign in; with one that is not usable (expired, revoked,
// forged) it answers 401. A portal's pages may be framed by the configured
// origins.
func (s *Server) viewer(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		} else {
			s.fail(w, r, nil, errUnauthorized())
		}
		return nil, false
	}
	sess, err := s.ops.Session(r.Context(), c.Value)
	if err != nil {
		s.clearSession(w, r)
		s.fail(w, r, nil, err)
		return nil, false
	}
	v := &viewer{session: sess, csrf: csrfToken(c.Value)}
	if !v.Operator() {
		w.Header().Set("Content-Security-Policy", s.portalCSP)
	}
	return v, true
}

// home sends the browser to the endpoints, or to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/ui/endpoints", http.StatusSeeOther)
}

// loginForm: GET /ui/login, the operator's sign-in with an API key.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	token := randomToken()
	setCookie(w, r, loginCookie, token, 10*time.Minute)
	s.render(w, r, status, "login", nil, map[string]any{"LoginCSRF": token, "Error": problem})
}

// login: POST /ui/login {key}. A valid API key starts an operator session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(c.Value)) != 1 {
		s.renderLogin(w, r, http.StatusForbidden, "The sign-in form expired; try again.")
		return
	}
	if !s.keys.Valid(strings.TrimSpace(r.PostFormValue("key"))) {
		s.log.Info("ui.sign_in_refused")
		s.renderLogin(w, r, http.StatusUnauthorized, "That is not an API key of this hookd.")
		return
	}
	sess, err := s.ops.StartOperatorSession(r.Context())
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	clearCookie(w, r, loginCookie)
	setCookie(w, r, SessionCookie, sess.Token, time.Until(sess.Session.ExpiresAt))
	http.Redirect(w, r, "/ui/endpoints", http.StatusSeeOther)
}

// openPortal: GET /ui/portal?token=… spends a portal link, keeps the
// session it starts in a cookie, and redirects to a URL without the token,
// so no later Referer, history entry or log holds it.
func (s *Server) openPortal(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", s.portalCSP)
	w.Header().Set("Cache-Control", "no-store")
	sess, err := s.ops.ExchangePortalLink(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, s.portalCookie(r, sess.Token, time.Until(sess.Session.ExpiresAt)))
	http.Redirect(w, r, "/ui/endpoints", http.StatusSeeOther)
}

// logout: POST /ui/logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	c, err := r.Cookie(SessionCookie)
	if err == nil {
		if err := s.ops.EndSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearSession(w, r)
	if !v.Operator() {
		s.render(w, r, http.StatusOK, "message", v, map[string]any{"Title": "Signed out", "Message": "You are signed out."})
		return nil
	}
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return nil
}

// cookie is an HttpOnly, SameSite=Strict cookie under /ui, Secure when the
// dashboard is reached over TLS; a negative ttl clears it.
func cookie(r *http.Request, name, value string, ttl time.Duration) *http.Cookie {
	maxAge := int(ttl.Seconds())
	if ttl < 0 {
		maxAge = -1
	}
	return &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)}
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration) {
	http.SetCookie(w, cookie(r, name, value, ttl))
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, cookie(r, name, "", -1))
}

// portalCookie is a portal's session cookie. Where the portal may be framed
// (HOOKD_PORTAL_FRAME_ANCESTORS) and is served over TLS, it is usable in an
// iframe of another site: SameSite=None, since a browser withholds Strict and
// Lax cookies from a cross-site frame; Secure, which None requires; and
// Partitioned (CHIPS), so the browser keeps it under the embedding site only
// and it works where third-party cookies are blocked. The CSRF token still
// guards every form. Operator cookies stay Strict: operator pages are never
// framed.
func (s *Server) portalCookie(r *http.Request, value string, ttl time.Duration) *http.Cookie {
	c := cookie(r, SessionCookie, value, ttl)
	if s.framed && overTLS(r) {
		c.SameSite, c.Secure, c.Partitioned = http.SameSiteNoneMode, true, true
	}
	return c
}

// clearSession clears the session cookie, the partitioned one of a framed
// portal too (a cookie is cleared only from its own partition).
func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r, SessionCookie)
	if c := s.portalCookie(r, "", -1); c.Partitioned {
		http.SetCookie(w, c)
	}
}

// overTLS reports whether the browser reached hookd over TLS, directly or
// through a proxy that says so.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("ui: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// statusError is a refusal of the dashboard's own (not an operation's).
type statusError struct {
	status  int
	message string
}

func (e *statusError) Error() string { return e.message }

func errForbidden(msg string) error { return &statusError{http.StatusForbidden, msg} }

func errUnauthorized() error {
	return &operations.Error{Kind: operations.Unauthorized, Message: "sign in first"}
}

// fail renders err as an error page: an operation's refusal with its
// status, anything else as 500 (logged by route, without its URL).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on hookd's side; it was logged."
	var se *statusError
	var oe *operations.Error
	switch {
	case errors.As(err, &se):
		status, msg = se.status, se.message
	case errors.As(err, &oe):
		status, msg = oe.Kind.HTTPStatus(), oe.Message
	default:
		s.log.Error("ui.internal_error", "route", r.Pattern, "error", err)
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "message", v, map[string]any{"Title": http.StatusText(status), "Message": msg,
		"SignIn": status == http.StatusUnauthorized})
}
