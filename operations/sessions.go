package operations

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hookd/hookd/models"
)

// SessionStore is what the dashboard session operations need of the store.
type SessionStore interface {
	CreateUISession(ctx context.Context, u *models.UISession) error
	GetUISession(ctx context.Context, tokenHash string, now time.Time) (*models.UISession, error)
	ExchangePortalLink(ctx context.Context, linkHash string, next *models.UISession, now time.Time) error
	RevokeUISession(ctx context.Context, tokenHash string, now time.Time) error
	RevokePortalSession(ctx context.Context, id string, now time.Time) error
	DeleteEndedUISessions(ctx context.Context, cutoff time.Time) (int64, error)
}

// Portal session lifetimes.
const (
	DefaultPortalTTL = time.Hour
	MaxPortalTTL     = 24 * time.Hour
	// OperatorSessionTTL is how long an operator's sign-in lasts.
	OperatorSessionTTL = 12 * time.Hour
)

// PortalSessionInput asks for a tenant's portal session.
type PortalSessionInput struct {
	TenantID string  `json:"tenant_id"`
	TTL      *string `json:"ttl"`       // a duration, DefaultPortalTTL when absent, at most MaxPortalTTL
	ReadOnly bool    `json:"read_only"` // the portal shows, and changes nothing
}

// NewSession is a session just made, with its token: the only time the
// token exists outside the holder's hands (the store keeps its hash).
type NewSession struct {
	Token   string
	Session models.UISession
}

// CreatePortalSession makes the one-use link of a tenant's portal session.
// Opening it (ExchangePortalLink) starts the session, which ends at the
// link's expiry.
func (o *Ops) CreatePortalSession(ctx context.Context, in PortalSessionInput) (*NewSession, error) {
	if in.TenantID == "" {
		return nil, invalid("tenant_id", "is required")
	}
	if !tenantPattern.MatchString(in.TenantID) {
		return nil, invalid("tenant_id", tokenRule)
	}
	ttl := DefaultPortalTTL
	if in.TTL != nil {
		d, err := time.ParseDuration(*in.TTL)
		if err != nil || d < time.Minute || d > MaxPortalTTL {
			return nil, invalid("ttl", "must be a duration from 1m to 24h, like \"1h\"")
		}
		ttl = d
	}
	s := o.newSession(models.SessionPortalLink, ttl)
	s.Session.TenantID, s.Session.ReadOnly = in.TenantID, in.ReadOnly
	if err := o.store.CreateUISession(ctx, &s.Session); err != nil {
		return nil, err
	}
	o.pruneSessions(ctx)
	o.log.Info("portal_session.created", "session_id", s.Session.ID, "tenant_id", in.TenantID, "read_only", in.ReadOnly)
	return s, nil
}

// StartOperatorSession starts an operator's dashboard session; the caller
// has checked the API key it was signed in with.
func (o *Ops) StartOperatorSession(ctx context.Context) (*NewSession, error) {
	s := o.newSession(models.SessionOperator, OperatorSessionTTL)
	if err := o.store.CreateUISession(ctx, &s.Session); err != nil {
		return nil, err
	}
	o.log.Info("operator_session.started", "session_id", s.Session.ID)
	return s, nil
}

// ExchangePortalLink spends a portal link's token and starts the portal
// session it stands for, with a new token. A token that is not a usable
// link is Unauthorized.
func (o *Ops) ExchangePortalLink(ctx context.Context, linkToken string) (*NewSession, error) {
	s := o.newSession(models.SessionPortal, 0)
	err := o.store.ExchangePortalLink(ctx, HashToken(linkToken), &s.Session, o.now())
	if errors.Is(err, models.ErrSessionUnusable) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, err
	}
	o.log.Info("portal_session.opened", "session_id", s.Session.ID, "tenant_id", s.Session.TenantID)
	return s, nil
}

// Session is the usable dashboard session (operator or portal) of a token;
// Unauthorized if it is unknown, expired, revoked or a link not yet opened.
func (o *Ops) Session(ctx context.Context, token string) (*models.UISession, error) {
	s, err := o.store.GetUISession(ctx, HashToken(token), o.now())
	if errors.Is(err, models.ErrSessionUnusable) {
		return nil, unauthorized()
	}
	return s, err
}

// pruneSessions deletes the sessions that ended a day ago or more, so that
// a portal session per page view does not grow the table for good. Best
// effort: a failure is logged, and the next session made tries again.
func (o *Ops) pruneSessions(ctx context.Context) {
	if _, err := o.store.DeleteEndedUISessions(ctx, o.now().Add(-24*time.Hour)); err != nil {
		o.log.Warn("ui_sessions.prune_failed", "error", err)
	}
}

// EndSession revokes the session of a token (signing out).
func (o *Ops) EndSession(ctx context.Context, token string) error {
	return o.store.RevokeUISession(ctx, HashToken(token), o.now())
}

// RevokePortalSession revokes a portal session by the id
// CreatePortalSession answered: its link no longer opens, and a portal
// opened from it gets 401 from its next request. NotFound if id names no
// portal session; revoking twice is not an error.
func (o *Ops) RevokePortalSession(ctx context.Context, id string) error {
	if err := o.store.RevokePortalSession(ctx, id, o.now()); err != nil {
		return storeError(err, "portal session", id)
	}
	o.log.Info("portal_session.revoked", "session_id", id)
	return nil
}

// newSession is a session of kind with a fresh token, expiring after ttl.
func (o *Ops) newSession(kind string, ttl time.Duration) *NewSession {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("operations: no randomness: " + err.Error())
	}
	token := "hks_" + base64.RawURLEncoding.EncodeToString(b)
	now := o.now().UTC()
	return &NewSession{Token: token, Session: models.UISession{
		ID: models.NewID("uis"), TokenHash: HashToken(token), Kind: kind, ExpiresAt: now.Add(ttl), CreatedAt: now,
	}}
}

// HashToken is how a session token is stored: hex SHA-256. Tokens are 32
// random bytes, so a plain hash is enough (no guessing to slow down).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func unauthorized() *Error {
	return &Error{Kind: Unauthorized, Message: "the session is unknown, expired or revoked; sign in again"}
}
