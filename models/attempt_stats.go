package models

import (
	"context"
	"fmt"
	"time"
)

// AttemptBucket counts an endpoint's attempts made in one hour.
type AttemptBucket struct {
	Start     time.Time // the hour's start, UTC
	Succeeded int64
	Failed    int64
}

// AttemptsPerHour counts an endpoint's attempts made at or after since, by
// hour (UTC), succeeded against failed, oldest hour first. Hours without an
// attempt are left out.
func (s *Store) AttemptsPerHour(ctx context.Context, endpointID string, since time.Time) ([]AttemptBucket, error) {
	// The hour as a whole number since the epoch, so both databases group
	// alike whatever their time types. SQLite holds times as RFC 3339 text
	// in UTC (attempts are stamped in UTC) with nanoseconds, which its date
	// functions do not read: the first 19 characters are the second.
	hour := "CAST(strftime('%s', substr(a.started_at, 1, 19)) AS INTEGER) / 3600"
	if s.Dialect() == "postgres" {
		hour = "CAST(floor(extract(epoch FROM a.started_at) / 3600) AS BIGINT)"
	}
	var rows []struct {
		Hour      int64
		Succeeded int64
		Failed    int64
	}
	err := s.db.WithContext(ctx).Table("attempts AS a").
		Select(hour+" AS hour, "+
			"SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded, "+
			"SUM(CASE WHEN a.succeeded THEN 0 ELSE 1 END) AS failed").
		Joins("JOIN deliveries AS d ON d.id = a.delivery_id").
		Where("d.endpoint_id = ? AND a.started_at >= ?", endpointID, since.UTC()).
		Group("hour").Order("hour").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count attempts of endpoint %s: %w", endpointID, err)
	}
	out := make([]AttemptBucket, len(rows))
	for i, r := range rows {
		out[i] = AttemptBucket{Start: time.Unix(r.Hour*3600, 0).UTC(), Succeeded: r.Succeeded, Failed: r.Failed}
	}
	return out, nil
}

// AttemptTotalsSince counts the attempts made at or after since by each
// of the endpoints, succeeded against failed, in one query: what a list of
// endpoints shows beside each. An endpoint without attempts is left out.
func (s *Store) AttemptTotalsSince(ctx context.Context, endpointIDs []string, since time.Time) (map[string]AttemptBucket, error) {
	out := map[string]AttemptBucket{}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		EndpointID string
		Succeeded  int64
		Failed     int64
	}
	err := s.db.WithContext(ctx).Table("attempts AS a").
		Select("d.endpoint_id AS endpoint_id, "+
			"SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded, "+
			"SUM(CASE WHEN a.succeeded THEN 0 ELSE 1 END) AS failed").
		Joins("JOIN deliveries AS d ON d.id = a.delivery_id").
		Where("d.endpoint_id IN ? AND a.started_at >= ?", endpointIDs, since.UTC()).
		Group("d.endpoint_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count attempts of %d endpoints: %w", len(endpointIDs), err)
	}
	for _, r := range rows {
		out[r.EndpointID] = AttemptBucket{Start: since.UTC(), Succeeded: r.Succeeded, Failed: r.Failed}
	}
	return out, nil
}
