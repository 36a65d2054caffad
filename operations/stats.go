package operations

import (
	"context"
	"time"

	"github.com/hookd/hookd/models"
)

// StatsStore is what the endpoint statistics need of the store.
type StatsStore interface {
	AttemptsPerHour(ctx context.Context, endpointID string, since time.Time) ([]models.AttemptBucket, error)
	AttemptTotalsSince(ctx context.Context, endpointIDs []string, since time.Time) (map[string]models.AttemptBucket, error)
	CountHeldByEndpoint(ctx context.Context, endpointIDs []string) (map[string]int64, error)
}

// StatsWindows are the windows EndpointStats covers, by name.
var StatsWindows = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// EndpointStats is an endpoint's attempts per hour over a window.
type EndpointStats struct {
	EndpointID string
	Window     string
	Since      time.Time // the first hour's start
	// Hours has one bucket per hour from Since to the current hour, oldest
	// first, hours without attempts included.
	Hours             []models.AttemptBucket
	Succeeded, Failed int64
}

// SuccessRate is the share of succeeded attempts in the window, from 0 to
// 1; false when there was no attempt.
func (s EndpointStats) SuccessRate() (float64, bool) {
	return successRate(s.Succeeded, s.Failed)
}

func successRate(succeeded, failed int64) (float64, bool) {
	if succeeded+failed == 0 {
		return 0, false
	}
	return float64(succeeded) / float64(succeeded+failed), true
}

// EndpointStats counts an endpoint's attempts per hour, succeeded against
// failed, over the last window ("24h", the default, or "7d").
func (o *Ops) EndpointStats(ctx context.Context, id, window string) (EndpointStats, error) {
	if _, err := statsSpan(window); err != nil {
		return EndpointStats{}, err
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return EndpointStats{}, err
	}
	return o.StatsOf(ctx, ep, window)
}

// statsSpan is the length of a stats window by name; "" is 24h.
func statsSpan(window string) (time.Duration, error) {
	if window == "" {
		window = "24h"
	}
	span, ok := StatsWindows[window]
	if !ok {
		return 0, invalid("window", "must be 24h or 7d")
	}
	return span, nil
}

// StatsOf is EndpointStats of an endpoint already loaded.
func (o *Ops) StatsOf(ctx context.Context, ep *models.Endpoint, window string) (EndpointStats, error) {
	span, err := statsSpan(window)
	if err != nil {
		return EndpointStats{}, err
	}
	if window == "" {
		window = "24h"
	}
	now := o.now().UTC().Truncate(time.Hour)
	since := now.Add(-span + time.Hour)
	buckets, err := o.store.AttemptsPerHour(ctx, ep.ID, since)
	if err != nil {
		return EndpointStats{}, err
	}
	st := EndpointStats{EndpointID: ep.ID, Window: window, Since: since}
	byHour := map[time.Time]models.AttemptBucket{}
	for _, b := range buckets {
		byHour[b.Start] = b
	}
	for h := since; !h.After(now); h = h.Add(time.Hour) {
		b := byHour[h]
		b.Start = h
		st.Hours = append(st.Hours, b)
		st.Succeeded += b.Succeeded
		st.Failed += b.Failed
	}
	return st, nil
}

// EndpointSummary is what a list of endpoints shows beside each one: its
// held deliveries, and its attempts of the last 24 hours (the hours
// EndpointStats' "24h" window covers).
type EndpointSummary struct {
	Held              int64
	Succeeded, Failed int64
}

// SuccessRate is as EndpointStats'.
func (s EndpointSummary) SuccessRate() (float64, bool) {
	return successRate(s.Succeeded, s.Failed)
}

// EndpointSummaries summarizes a page of endpoints in two queries, whatever
// its length; every id has an entry.
func (o *Ops) EndpointSummaries(ctx context.Context, ids []string) (map[string]EndpointSummary, error) {
	held, err := o.store.CountHeldByEndpoint(ctx, ids)
	if err != nil {
		return nil, err
	}
	since := o.now().UTC().Truncate(time.Hour).Add(-StatsWindows["24h"] + time.Hour)
	totals, err := o.store.AttemptTotalsSince(ctx, ids, since)
	if err != nil {
		return nil, err
	}
	out := make(map[string]EndpointSummary, len(ids))
	for _, id := range ids {
		out[id] = EndpointSummary{Held: held[id], Succeeded: totals[id].Succeeded, Failed: totals[id].Failed}
	}
	return out, nil
}
