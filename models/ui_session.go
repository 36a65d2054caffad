package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Kinds of UISession.
const (
	// SessionOperator is an operator signed in with an API key: every tenant.
	SessionOperator = "operator"
	// SessionPortalLink is the one-use link of a portal session, as
	// POST /v1/portal-sessions hands it out; opening it makes a SessionPortal.
	SessionPortalLink = "portal_link"
	// SessionPortal is a tenant's portal session: one tenant only.
	SessionPortal = "portal"
)

// UISession is a dashboard session, or a portal link not yet opened. Its
// token is never stored: TokenHash is the hex SHA-256 of it.
type UISession struct {
	ID        string `gorm:"primaryKey;size:40"`
	TokenHash string `gorm:"size:64;not null;uniqueIndex:idx_ui_sessions_token_hash"`
	Kind      string `gorm:"size:16;not null"`
	// TenantID is the one tenant a portal session sees; "" for operators.
	TenantID  string    `gorm:"size:255;not null;default:''"`
	ReadOnly  bool      `gorm:"not null;default:false"`
	ExpiresAt time.Time `gorm:"not null;index:idx_ui_sessions_expires"`
	// LinkID is, for a portal session, the ID of the portal link it was
	// opened from: revoking the link (DELETE /v1/portal-sessions/{id}) ends
	// the session too.
	LinkID string `gorm:"size:40;not null;default:'';index:idx_ui_sessions_link"`
	// RevokedAt is set when the session is signed out or revoked, or when a
	// portal link has been opened (it is good for one use).
	RevokedAt *time.Time
	CreatedAt time.Time
}

// ErrSessionUnusable is returned for a token that names no session, or one
// that is expired or revoked.
var ErrSessionUnusable = errors.New("session unknown, expired or revoked")

// CreateUISession stores u.
func (s *Store) CreateUISession(ctx context.Context, u *UISession) error {
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		return fmt.Errorf("create ui session: %w", err)
	}
	return nil
}

// usable selects the sessions of a token hash and kind that are usable at
// now: not expired, not revoked.
func usable(tx *gorm.DB, tokenHash string, kinds []string, now time.Time) *gorm.DB {
	return tx.Where("token_hash = ? AND kind IN ? AND revoked_at IS NULL AND expires_at > ?", tokenHash, kinds, now.UTC())
}

// GetUISession loads the dashboard session (operator or portal, never a
// portal link not yet opened) of a token hash if it is usable at now;
// ErrSessionUnusable otherwise.
func (s *Store) GetUISession(ctx context.Context, tokenHash string, now time.Time) (*UISession, error) {
	var out []UISession
	err := usable(s.db.WithContext(ctx), tokenHash, []string{SessionOperator, SessionPortal}, now).
		Limit(1).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("load ui session: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrSessionUnusable
	}
	return &out[0], nil
}

// ExchangePortalLink spends a usable portal link (by its token hash) and
// stores next, a portal session of the same tenant, read-only flag and
// expiry, in one transaction: of two concurrent exchanges of one link one
// wins. ErrSessionUnusable if the link is unknown, spent, revoked or expired.
func (s *Store) ExchangePortalLink(ctx context.Context, linkHash string, next *UISession, now time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var link UISession
		err := usable(tx, linkHash, []string{SessionPortalLink}, now).Take(&link).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrSessionUnusable
		}
		if err != nil {
			return err
		}
		res := tx.Model(&UISession{}).Where("id = ? AND revoked_at IS NULL", link.ID).Update("revoked_at", now.UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrSessionUnusable
		}
		next.Kind, next.TenantID, next.ReadOnly, next.ExpiresAt = SessionPortal, link.TenantID, link.ReadOnly, link.ExpiresAt
		next.LinkID = link.ID
		return tx.Create(next).Error
	})
	if errors.Is(err, ErrSessionUnusable) {
		return err
	}
	if err != nil {
		return fmt.Errorf("exchange portal link: %w", err)
	}
	return nil
}

// RevokeUISession ends the session of a token hash (signing out); a
// session already ended or unknown is not an error.
func (s *Store) RevokeUISession(ctx context.Context, tokenHash string, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&UISession{}).
		Where("token_hash = ? AND revoked_at IS NULL", tokenHash).Update("revoked_at", now.UTC()).Error
	if err != nil {
		return fmt.Errorf("revoke ui session: %w", err)
	}
	return nil
}

// RevokePortalSession revokes the portal link of id and the session opened
// from it, if any; revoking twice is not an error. ErrNotFound if id names
// no portal link (expired links pruned a day after they end are gone too).
func (s *Store) RevokePortalSession(ctx context.Context, id string, now time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&UISession{}).Where("id = ? AND kind = ?", id, SessionPortalLink).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return tx.Model(&UISession{}).
			Where("(id = ? OR link_id = ?) AND revoked_at IS NULL", id, id).Update("revoked_at", now.UTC()).Error
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("revoke portal session: %w", err)
	}
	return nil
}

// DeleteEndedUISessions deletes the sessions and links that expired before
// cutoff; it answers how many.
func (s *Store) DeleteEndedUISessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", cutoff.UTC()).Delete(&UISession{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete ended ui sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
