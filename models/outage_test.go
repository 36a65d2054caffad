package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// failedAttempt is attempt n of d that got a 500 with body.
func failedAttempt(d models.Delivery, n int, body []byte) *models.Attempt {
	return &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: n, Trigger: models.TriggerSchedule,
		URL: "https://example.com/hook", StatusCode: 500, Error: "HTTP 500", ResponseBody: body, StartedAt: time.Now().UTC()}
}

// A receiver may answer anything: NUL bytes and invalid UTF-8 are stored
// and read back byte for byte (PostgreSQL refuses them in a text column).
func TestAnAttemptWithABinaryAnswerIsRecorded(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("t-binary", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		in, err := s.IngestEvent(ctx, newEvent("t-binary", "x", models.NewID("k")), []models.Endpoint{*ep})
		require.NoError(t, err)
		body := []byte("ok\x00\xff\xfe\x80 end")
		rec, err := s.RecordAttempt(ctx, ep.ID, failedAttempt(in.Deliveries[0], 1, body), models.AttemptOutcome{Status: models.DeliveryPending})
		require.NoError(t, err)
		require.True(t, rec.Applied)
		atts, err := s.ListAttempts(ctx, in.Deliveries[0].ID)
		require.NoError(t, err)
		require.Len(t, atts, 1)
		require.Equal(t, body, atts[0].Body())
	})
}

// An attempt that ends after its delivery was cancelled (its endpoint
// deleted meanwhile) is logged, and the delivery stays cancelled.
func TestALateAttemptLeavesACancelledDeliveryCancelled(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("t-late", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		in, err := s.IngestEvent(ctx, newEvent("t-late", "x", models.NewID("k")), []models.Endpoint{*ep})
		require.NoError(t, err)
		d := in.Deliveries[0]
		open, err := s.DeleteEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Len(t, open, 1)

		for _, ok := range []bool{true, false} {
			a := failedAttempt(d, 1, []byte("late"))
			o := models.AttemptOutcome{Status: models.DeliveryPending}
			if ok {
				a.StatusCode, a.Succeeded, a.Error = 200, true, ""
				o.Status = models.DeliverySucceeded
			}
			rec, err := s.RecordAttempt(ctx, ep.ID, a, o)
			require.NoError(t, err)
			require.False(t, rec.Applied)
			require.Equal(t, models.DeliveryCancelled, rec.Status)
			got, err := s.GetDelivery(ctx, d.ID)
			require.NoError(t, err)
			require.Equal(t, models.DeliveryCancelled, got.Status, "succeeded=%v", ok)
			require.Zero(t, got.AttemptCount)
		}
		atts, err := s.ListAttempts(ctx, d.ID)
		require.NoError(t, err)
		require.Len(t, atts, 2, "both late attempts are logged")

		// Nor can a hold reopen it.
		held, err := s.MarkHeld(ctx, d.ID, ep.ID)
		require.NoError(t, err)
		require.False(t, held)

		// A late failure of a delivery already finished (its endpoint alive)
		// counts nothing against the endpoint either.
		live := newEndpoint("t-late", "*")
		require.NoError(t, s.CreateEndpoint(ctx, live))
		in, err = s.IngestEvent(ctx, newEvent("t-late", "x", models.NewID("k")), []models.Endpoint{*live})
		require.NoError(t, err)
		done := failedAttempt(in.Deliveries[0], 1, nil)
		done.Succeeded, done.StatusCode = true, 200
		_, err = s.RecordAttempt(ctx, live.ID, done, models.AttemptOutcome{Status: models.DeliverySucceeded})
		require.NoError(t, err)
		rec, err := s.RecordAttempt(ctx, live.ID, failedAttempt(in.Deliveries[0], 2, nil), models.AttemptOutcome{Status: models.DeliveryPending})
		require.NoError(t, err)
		require.False(t, rec.Applied)
		require.Equal(t, models.DeliverySucceeded, rec.Status)
		require.False(t, rec.Changed, "nothing to report to the health workflow")
		got, err := s.GetEndpoint(ctx, live.ID)
		require.NoError(t, err)
		require.Zero(t, got.ConsecutiveFailures)
	})
}

// ListOverdue finds every pending delivery whose workflow is late, whatever
// its attempt count: never started, waiting past its next attempt, reset
// for a redelivery that was never started. Held and finished deliveries,
// and those not yet due, are not listed; DeferReconcile takes a delivery
// off the list until its new time.
func TestListOverdueFindsEveryLatePendingDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("t-overdue", "*")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		ingest := func(n int) []models.Delivery {
			var out []models.Delivery
			for i := range n {
				in, err := s.IngestEvent(ctx, newEvent("t-overdue", "x", fmt.Sprint(models.NewID("k"), i)), []models.Endpoint{*ep})
				require.NoError(t, err)
				out = append(out, in.Deliveries[0])
			}
			return out
		}
		ds := ingest(5)
		unstarted, waiting, finished, reset, future := ds[0], ds[1], ds[2], ds[3], ds[4]
		past := time.Now().Add(-time.Minute)
		later := time.Now().Add(time.Hour)
		_, err := s.RecordAttempt(ctx, ep.ID, failedAttempt(waiting, 1, nil), models.AttemptOutcome{Status: models.DeliveryPending, NextAttemptAt: &past})
		require.NoError(t, err)
		_, err = s.RecordAttempt(ctx, ep.ID, failedAttempt(future, 1, nil), models.AttemptOutcome{Status: models.DeliveryPending, NextAttemptAt: &later})
		require.NoError(t, err)
		for _, d := range []models.Delivery{finished, reset} {
			ok := failedAttempt(d, 1, nil)
			ok.Succeeded, ok.StatusCode = true, 200
			_, err = s.RecordAttempt(ctx, ep.ID, ok, models.AttemptOutcome{Status: models.DeliverySucceeded})
			require.NoError(t, err)
		}
		reopened, err := s.ResetForRedelivery(ctx, reset.ID)
		require.NoError(t, err)
		require.True(t, reopened)
		held := ingest(1)[0]
		require.NoError(t, s.DB().Model(&models.Endpoint{}).Where("id = ?", ep.ID).Update("state", models.EndpointPaused).Error)
		ok, err := s.MarkHeld(ctx, held.ID, ep.ID)
		require.NoError(t, err)
		require.True(t, ok)

		ids := func(cutoff time.Time) []string {
			got, err := s.ListOverdue(ctx, cutoff, 100)
			require.NoError(t, err)
			var out []string
			for _, d := range got {
				out = append(out, d.ID)
			}
			return out
		}
		cutoff := time.Now().Add(time.Millisecond)
		require.ElementsMatch(t, []string{unstarted.ID, waiting.ID, reset.ID}, ids(cutoff))
		require.Equal(t, waiting.ID, ids(cutoff)[0], "most overdue first")

		require.NoError(t, s.DeferReconcile(ctx, []string{waiting.ID, unstarted.ID}, time.Now().Add(time.Hour)))
		require.Equal(t, []string{reset.ID}, ids(cutoff))
		require.ElementsMatch(t, []string{unstarted.ID, waiting.ID, reset.ID, future.ID}, ids(time.Now().Add(2*time.Hour)))
	})
}
