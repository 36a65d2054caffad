package models

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DefaultSchedule is the wait before each retry after the first attempt:
// six attempts in all, the last one a day and a few hours after the first.
var DefaultSchedule = Schedule{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 24 * time.Hour}

// MaxScheduleLen bounds the number of retries an endpoint may ask for.
const MaxScheduleLen = 20

// MaxRetryDelay bounds one wait between attempts.
const MaxRetryDelay = 7 * 24 * time.Hour

// Schedule is the list of waits before retries 1..n. On the wire and in the
// database it is a JSON array of duration strings such as ["1m","5m","24h"].
type Schedule []time.Duration

// FormatDuration writes d in the shortest whole unit: "90s", "5m", "24h".
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// MarshalJSON writes the schedule as duration strings.
func (s Schedule) MarshalJSON() ([]byte, error) {
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = FormatDuration(d)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads duration strings ("1m", "2h30m", "24h").
func (s *Schedule) UnmarshalJSON(b []byte) error {
	var raw []string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("retry schedule must be an array of durations like \"5m\"")
	}
	out := make(Schedule, len(raw))
	for i, r := range raw {
		d, err := time.ParseDuration(strings.TrimSpace(r))
		if err != nil {
			return fmt.Errorf("retry schedule entry %d: %q is not a duration like \"5m\"", i, r)
		}
		out[i] = d
	}
	*s = out
	return nil
}

// Validate checks the bounds of a schedule a user supplied.
func (s Schedule) Validate() error {
	if len(s) > MaxScheduleLen {
		return fmt.Errorf("at most %d retries are allowed", MaxScheduleLen)
	}
	for i, d := range s {
		if d <= 0 || d > MaxRetryDelay {
			return fmt.Errorf("entry %d must be between 1ms and %s", i, FormatDuration(MaxRetryDelay))
		}
	}
	return nil
}
