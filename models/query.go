package models

import (
	"time"

	"gorm.io/gorm"
)

// eq narrows q to rows where each column equals its value; empty values
// match everything. pairs are column, value, column, value, …
func eq(q *gorm.DB, pairs ...string) *gorm.DB {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q = q.Where(pairs[i]+" = ?", pairs[i+1])
		}
	}
	return q
}

// newestFirst narrows q to rows created in [since, until) (zero times are
// open ends) with ids before the cursor after, newest first, at most limit
// (default 50). Ids grow with time, so paging by id is stable while new rows
// are inserted.
func newestFirst(q *gorm.DB, since, until time.Time, after string, limit int) *gorm.DB {
	if !since.IsZero() {
		q = q.Where("created_at >= ?", since)
	}
	if !until.IsZero() {
		q = q.Where("created_at < ?", until)
	}
	if after != "" {
		q = q.Where("id < ?", after)
	}
	if limit <= 0 {
		limit = 50
	}
	return q.Order("id DESC").Limit(limit)
}
