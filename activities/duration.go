package activities

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd/models"
)

// Duration is a time.Duration as it is written into workflow history:
// "1m", "2h30m", "250ms", so that an operator reading a workflow's input or
// an attempt's result in the Temporal UI reads a duration, not a count of
// nanoseconds. It reads both forms back: histories written before it hold
// numbers, and a worker must still replay them.
type Duration time.Duration

// MarshalJSON writes the duration as a string like "5m".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(models.FormatDuration(time.Duration(d)))
}

// UnmarshalJSON reads a duration string, or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ns int64
		if nerr := json.Unmarshal(b, &ns); nerr != nil {
			return fmt.Errorf("duration: %s is neither a string like \"5m\" nor nanoseconds", b)
		}
		*d = Duration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Durations converts a schedule for writing; nil stays nil.
func Durations(ds []time.Duration) []Duration {
	if ds == nil {
		return nil
	}
	out := make([]Duration, len(ds))
	for i, d := range ds {
		out[i] = Duration(d)
	}
	return out
}

// TimeDurations converts a schedule read back; nil stays nil.
func TimeDurations(ds []Duration) []time.Duration {
	if ds == nil {
		return nil
	}
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}

// attemptInputJSON is AttemptInput as it is written into history.
type attemptInputJSON struct {
	plainAttemptInput
	NextDelay Duration
}

type plainAttemptInput AttemptInput

// MarshalJSON writes NextDelay as a duration string.
func (in AttemptInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(attemptInputJSON{plainAttemptInput(in), Duration(in.NextDelay)})
}

// UnmarshalJSON reads what MarshalJSON writes, and the older numeric form.
func (in *AttemptInput) UnmarshalJSON(b []byte) error {
	var v attemptInputJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*in = AttemptInput(v.plainAttemptInput)
	in.NextDelay = time.Duration(v.NextDelay)
	return nil
}

// attemptResultJSON is AttemptResult as it is written into history.
type attemptResultJSON struct {
	plainAttemptResult
	RetryAfter Duration
}

type plainAttemptResult AttemptResult

// MarshalJSON writes RetryAfter as a duration string.
func (r AttemptResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(attemptResultJSON{plainAttemptResult(r), Duration(r.RetryAfter)})
}

// UnmarshalJSON reads what MarshalJSON writes, and the older numeric form.
func (r *AttemptResult) UnmarshalJSON(b []byte) error {
	var v attemptResultJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = AttemptResult(v.plainAttemptResult)
	r.RetryAfter = time.Duration(v.RetryAfter)
	return nil
}
