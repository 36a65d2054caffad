package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/models/modelstest"
)

func TestAPortalLinkIsExchangedOnceForASessionOfItsTenant(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx, now := context.Background(), time.Now().UTC()
		link := &models.UISession{ID: models.NewID("uis"), TokenHash: "link", Kind: models.SessionPortalLink,
			TenantID: "acme", ReadOnly: true, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		require.NoError(t, s.CreateUISession(ctx, link))

		first := &models.UISession{ID: models.NewID("uis"), TokenHash: "first", CreatedAt: now}
		require.NoError(t, s.ExchangePortalLink(ctx, "link", first, now))
		second := &models.UISession{ID: models.NewID("uis"), TokenHash: "second", CreatedAt: now}
		require.ErrorIs(t, s.ExchangePortalLink(ctx, "link", second, now), models.ErrSessionUnusable, "spent")

		got, err := s.GetUISession(ctx, "first", now)
		require.NoError(t, err)
		require.Equal(t, "acme", got.TenantID)
		require.True(t, got.ReadOnly)
		require.WithinDuration(t, link.ExpiresAt, got.ExpiresAt, time.Millisecond, "the session ends with the link")
		_, err = s.GetUISession(ctx, "link", now)
		require.ErrorIs(t, err, models.ErrSessionUnusable, "a link is not a session")
		fresh := &models.UISession{ID: models.NewID("uis"), TokenHash: "fresh", Kind: models.SessionPortalLink,
			TenantID: "acme", ExpiresAt: now.Add(3 * time.Hour), CreatedAt: now}
		require.NoError(t, s.CreateUISession(ctx, fresh))
		_, err = s.GetUISession(ctx, "fresh", now)
		require.ErrorIs(t, err, models.ErrSessionUnusable, "a link not yet opened is not a session either")
		_, err = s.GetUISession(ctx, "first", now.Add(2*time.Hour))
		require.ErrorIs(t, err, models.ErrSessionUnusable, "expired")

		require.NoError(t, s.RevokeUISession(ctx, "first", now))
		_, err = s.GetUISession(ctx, "first", now)
		require.ErrorIs(t, err, models.ErrSessionUnusable, "revoked")

		n, err := s.DeleteEndedUISessions(ctx, now.Add(90*time.Minute))
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "the link and its session ended (the fresh link has not)")
	})
}

func TestRevokingAPortalLinkEndsTheSessionOpenedFromIt(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx, now := context.Background(), time.Now().UTC()
		link := func(hash string) *models.UISession {
			l := &models.UISession{ID: models.NewID("uis"), TokenHash: hash, Kind: models.SessionPortalLink,
				TenantID: "acme", ExpiresAt: now.Add(time.Hour), CreatedAt: now}
			require.NoError(t, s.CreateUISession(ctx, l))
			return l
		}
		opened, unopened := link("opened"), link("unopened")
		link("other")
		require.NoError(t, s.ExchangePortalLink(ctx, "opened", &models.UISession{ID: models.NewID("uis"), TokenHash: "session", CreatedAt: now}, now))
		require.NoError(t, s.ExchangePortalLink(ctx, "other", &models.UISession{ID: models.NewID("uis"), TokenHash: "other-session", CreatedAt: now}, now))

		require.NoError(t, s.RevokePortalSession(ctx, opened.ID, now))
		_, err := s.GetUISession(ctx, "session", now)
		require.ErrorIs(t, err, models.ErrSessionUnusable, "the session opened from a revoked link ends")
		_, err = s.GetUISession(ctx, "other-session", now)
		require.NoError(t, err, "another link's session goes on")
		require.NoError(t, s.RevokePortalSession(ctx, opened.ID, now), "revoking twice is no error")

		require.NoError(t, s.RevokePortalSession(ctx, unopened.ID, now))
		require.ErrorIs(t, s.ExchangePortalLink(ctx, "unopened", &models.UISession{ID: models.NewID("uis"), TokenHash: "late", CreatedAt: now}, now),
			models.ErrSessionUnusable, "a revoked link no longer opens")

		require.ErrorIs(t, s.RevokePortalSession(ctx, models.NewID("uis"), now), models.ErrNotFound)
		sess, err := s.GetUISession(ctx, "other-session", now)
		require.NoError(t, err)
		require.ErrorIs(t, s.RevokePortalSession(ctx, sess.ID, now), models.ErrNotFound, "only a link's id revokes")
	})
}

func TestDeliveriesFilterByTheirEventsTenantAndType(t *testing.T) {
	modelstest.Backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ids := map[string]string{}
		for _, ev := range []struct{ tenant, typ string }{{"a", "lead.created"}, {"a", "deal.won"}, {"b", "lead.created"}} {
			e := models.Event{ID: models.NewID("evt"), TenantID: ev.tenant, Type: ev.typ, Payload: "{}", OccurredAt: time.Now(),
				IdempotencyKey: models.NewID("k"), RequestHash: "h", CreatedAt: time.Now().UTC()}
			in, err := s.IngestEvent(ctx, e, []models.Endpoint{{ID: models.NewID("ep")}})
			require.NoError(t, err)
			ids[ev.tenant+" "+ev.typ] = in.Deliveries[0].ID
		}
		list := func(f models.DeliveryFilter) []string {
			ds, err := s.ListDeliveries(ctx, f)
			require.NoError(t, err)
			var out []string
			for _, d := range ds {
				out = append(out, d.ID)
			}
			return out
		}
		require.ElementsMatch(t, []string{ids["a lead.created"], ids["a deal.won"]}, list(models.DeliveryFilter{TenantID: "a"}))
		require.ElementsMatch(t, []string{ids["a lead.created"], ids["b lead.created"]}, list(models.DeliveryFilter{EventType: "lead.created"}))
		require.Equal(t, []string{ids["b lead.created"]}, list(models.DeliveryFilter{TenantID: "b", EventType: "lead.created"}))
	})
}
