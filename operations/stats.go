package operations

import (
	"context"
	"time"

	"github.com/hookd/hookd/models"
)

// StatsStore is what the endpoint statistics need of the store.
type StatsStore interface {
	AttemptsPerHour(ctx context.Context, endpointID string, since time.Time) ([]models.AttemptBucket, error)
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
	if s.Succeeded+s.Failed == 0 {
		return 0, false
	}
	return float64(s.Succeeded) / float64(s.Succeeded+s.Failed), true
}

// EndpointStats counts an endpoint's attempts per hour, succeeded against
// failed, over the last window ("24h", the default, or "7d").
func (o *Ops) EndpointStats(ctx context.Context, id, window string) (EndpointStats, error) {
	if window == "" {
		window = "24h"
	}
	span, ok := StatsWindows[window]
	if !ok {
		return EndpointStats{}, invalid("window", "must be 24h or 7d")
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return EndpointStats{}, err
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
