// Package activities holds the side effects of a delivery: loading what an
// attempt needs from the store, signing it with the endpoint's profile,
// sending it over HTTP, and recording the outcome.
//
// A failed HTTP attempt is data (AttemptResult), not a Go error: an activity
// returns an error only when hookd itself could not do its job (the database
// is down), and Temporal retries it.
package activities
