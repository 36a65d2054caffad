package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// Deliverer makes delivery attempts. Its dependencies are set once at worker
// start; workflows call its methods through a nil *Deliverer.
type Deliverer struct {
	Store    *models.Store
	HTTP     *http.Client
	Logger   *slog.Logger
	Reporter HealthReporter
	// Metrics counts attempts; nil turns that off.
	Metrics *metrics.Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Tracer makes each attempt's span (AttemptSpanName); nil when tracing
	// is off, and then no span is made and no traceparent sent.
	Tracer trace.Tracer
}

// AttemptInput names the delivery to attempt. It carries ids only: the
// endpoint's URL and secret are read from the store, never written into
// workflow history.
type AttemptInput struct {
	DeliveryID string
	Trigger    string
	// Final is true when no scheduled attempt follows if this one fails.
	Final bool
	// NextDelay is the scheduled wait before the next attempt (for the
	// delivery's next_attempt_at); zero when Final.
	NextDelay time.Duration
}

// AttemptResult is what happened to one attempt.
type AttemptResult struct {
	Number     int
	Succeeded  bool
	StatusCode int
	Error      string
	LatencyMS  float64
	// RetryAfter is the wait the receiver asked for with Retry-After on a 429 or 503.
	RetryAfter time.Duration
	// Gone is set when the delivery, its endpoint or its event no longer
	// exists: nothing was sent.
	Gone bool
	// DisabledAt is set when the receiver answered 410 Gone: the delivery
	// failed at once, with no more retries, and the endpoint is disabled
	// (since DisabledAt, the first 410's time if it was disabled already).
	DisabledAt *time.Time
	// Closed is set when the delivery was cancelled (or finished by another
	// run) while this attempt was under way: the attempt is logged, the
	// delivery keeps that status, and its workflow ends. It is the
	// delivery's status then ("cancelled" if it is gone).
	Closed string
	// Held is set when the endpoint is paused or disabled: nothing was
	// sent, no attempt was used up, and the delivery is now held until the
	// endpoint is unpaused or enabled.
	Held bool
	// Report is what the endpoint's health workflow must be told, when it
	// must: every failure, and a success that ended a run of failures on
	// record (see models.Store.RecordAttempt). A success on a healthy
	// endpoint reports nothing.
	Report *AttemptReport

	// body is the start of the response body: stored with the attempt,
	// kept out of workflow history (unexported fields are not serialised).
	body []byte
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Attempt sends one signed POST of a delivery and records it. It is called
// at least once per scheduled attempt.
func (d *Deliverer) Attempt(ctx context.Context, in AttemptInput) (AttemptResult, error) {
	w, err := d.Store.LoadDeliveryWork(ctx, in.DeliveryID)
	if errors.Is(err, models.ErrNotFound) {
		return AttemptResult{Gone: true}, nil
	}
	if err != nil {
		return AttemptResult{}, err
	}
	log := d.Logger.With("delivery_id", w.Delivery.ID, "endpoint_id", w.Endpoint.ID, "event_id", w.Event.ID)
	if res, done, err := d.skipOrHold(ctx, w, log); done || err != nil {
		return res, err
	}
	number := w.Delivery.AttemptCount + 1
	started := d.now()
	tctx, span := d.startAttempt(ctx, w, number, in.Trigger)
	res, headers := d.try(tctx, w, number, started)
	span.end(res)
	outcome := outcomeOf(res, in, started)
	if res.StatusCode == http.StatusGone {
		outcome.Disable = GoneReason
	}
	a := &models.Attempt{
		ID:             models.NewID("att"),
		DeliveryID:     w.Delivery.ID,
		Number:         number,
		Trigger:        in.Trigger,
		URL:            w.Endpoint.URL,
		RequestHeaders: headers,
		StatusCode:     res.StatusCode,
		Succeeded:      res.Succeeded,
		LatencyMS:      res.LatencyMS,
		ResponseBody:   res.body,
		Error:          truncate(res.Error, 1024),
		StartedAt:      started.UTC(),
	}
	res.body = nil
	return d.record(ctx, w, in, a, res, outcome, log)
}

// skipOrHold answers done when nothing is to be sent: the endpoint is
// paused or disabled and the delivery is now held (Held). An endpoint
// unpaused or enabled since the delivery was loaded is attempted.
func (d *Deliverer) skipOrHold(ctx context.Context, w *models.DeliveryWork, log *slog.Logger) (res AttemptResult, done bool, err error) {
	switch w.Endpoint.State {
	case models.EndpointPaused, models.EndpointDisabled:
		held, err := d.Store.MarkHeld(ctx, w.Delivery.ID, w.Endpoint.ID)
		if err != nil {
			return AttemptResult{}, true, err
		}
		if held {
			if d.Metrics != nil {
				d.Metrics.DeliveriesHeld.Inc()
			}
			log.Info("delivery.held", "reason", "endpoint "+w.Endpoint.State)
			return AttemptResult{Held: true}, true, nil
		}
	}
	return AttemptResult{}, false, nil
}

// try renders and sends attempt number, started at started; a request
// that cannot be built is a failed attempt. It answers the headers to
// store with the attempt.
func (d *Deliverer) try(ctx context.Context, w *models.DeliveryWork, number int, started time.Time) (AttemptResult, map[string]string) {
	req, headers, err := d.buildRequest(ctx, w, number, started)
	var res AttemptResult
	if err != nil {
		res = AttemptResult{Error: err.Error()}
	} else {
		res = d.send(req, w.Endpoint.Timeout())
	}
	res.Number = number
	res.LatencyMS = float64(d.now().Sub(started).Microseconds()) / 1000
	return res, headers
}

// outcomeOf is what an attempt's result makes of its delivery: succeeded,
// failed after the final attempt or on a 410 Gone, or pending until the
// next one (no earlier than the receiver's Retry-After).
func outcomeOf(res AttemptResult, in AttemptInput, started time.Time) models.AttemptOutcome {
	outcome := models.AttemptOutcome{Status: models.DeliveryPending}
	switch {
	case res.Succeeded:
		outcome.Status = models.DeliverySucceeded
	case in.Final, res.StatusCode == http.StatusGone:
		outcome.Status = models.DeliveryFailed
	default:
		next := started.Add(max(in.NextDelay, res.RetryAfter))
		outcome.NextAttemptAt = &next
	}
	return outcome
}

// record stores the attempt a with the delivery's outcome, and answers res
// with what the health workflow must be told; if the delivery was closed
// while the attempt ran, the attempt is kept and res says so.
func (d *Deliverer) record(ctx context.Context, w *models.DeliveryWork, in AttemptInput, a *models.Attempt,
	res AttemptResult, outcome models.AttemptOutcome, log *slog.Logger) (AttemptResult, error) {
	rec, err := d.Store.RecordAttempt(ctx, w.Endpoint.ID, a, outcome)
	if err != nil {
		return AttemptResult{}, err
	}
	if !rec.Applied {
		res.Closed = rec.Status
		if res.Closed == "" {
			res.Closed = models.DeliveryCancelled
		}
		log.Info("delivery.attempted", "attempt", a.Number, "status_code", res.StatusCode,
			"succeeded", res.Succeeded, "delivery_status", res.Closed, "note", "the delivery was closed while the attempt ran")
		return res, nil
	}
	count := rec.FailureCount
	if rec.DisabledAt != nil {
		res.DisabledAt = rec.DisabledAt
		log.Warn("endpoint.disabled", "reason", GoneReason)
	}
	if d.Metrics != nil {
		d.Metrics.ObserveAttempt(res.Succeeded, time.Duration(res.LatencyMS*float64(time.Millisecond)))
		if outcome.Status != models.DeliveryPending {
			d.Metrics.DeliveriesFinished.WithLabelValues(outcome.Status).Inc()
		}
	}
	// The count was kept in the attempt's own transaction: a success is
	// reported exactly when it ended a run of failures on record, however
	// recent those failures are, and never on a healthy endpoint.
	if count.Changed {
		res.Report = &AttemptReport{
			EndpointID: w.Endpoint.ID, DeliveryID: w.Delivery.ID, Failed: !res.Succeeded,
			Error: truncate(res.Error, 256), At: a.StartedAt, PauseThreshold: w.Endpoint.PauseThreshold,
			Failures: count.Failures, Seq: count.Seq,
		}
		if outcome.Status == models.DeliveryFailed {
			r := res.Report
			r.EventID, r.Attempt, r.StatusCode, r.DisabledAt = w.Event.ID, a.Number, res.StatusCode, rec.DisabledAt
			r.Exhausted = rec.DisabledAt == nil
		}
	}
	log.Info("delivery.attempted", "attempt", a.Number, "status_code", res.StatusCode,
		"latency_ms", res.LatencyMS, "succeeded", res.Succeeded, "error", res.Error,
		"delivery_status", outcome.Status, "trigger", in.Trigger)
	return res, nil
}

// GoneReason is why an endpoint whose receiver answered 410 Gone is disabled.
const GoneReason = "the receiver answered 410 Gone"

// AttemptReport tells an endpoint's health workflow how an attempt ended.
type AttemptReport struct {
	EndpointID     string    `json:"endpoint_id"`
	DeliveryID     string    `json:"delivery_id"`
	Failed         bool      `json:"failed"`
	Error          string    `json:"error,omitempty"`
	At             time.Time `json:"at"`
	PauseThreshold int       `json:"pause_threshold"`
	// Failures is the endpoint's count of consecutive failed attempts once
	// this attempt was recorded, and Seq the endpoint's HealthSeq then: the
	// workflow applies a report only if its Seq is newer than what it has,
	// so reports arriving out of order cannot miscount.
	Failures int   `json:"failures,omitempty"`
	Seq      int64 `json:"seq,omitempty"`
	// The attempt failed the delivery for good when Exhausted (its schedule
	// is used up) or DisabledAt (the receiver answered 410 Gone, and the
	// endpoint is disabled since then): the workflow sends the operator's
	// operational webhook of it. EventID, Attempt (the attempt's number)
	// and StatusCode describe the delivery then.
	Exhausted  bool       `json:"exhausted,omitempty"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	EventID    string     `json:"event_id,omitempty"`
	Attempt    int        `json:"attempt,omitempty"`
	StatusCode int        `json:"status_code,omitempty"`
}

// HealthReporter delivers an AttemptReport to the endpoint's health
// workflow, starting that workflow if it is not running.
type HealthReporter interface {
	ReportAttempt(ctx context.Context, r AttemptReport) error
}

// ReportHealth passes an attempt's report on to the endpoint's health
// workflow. It is its own activity so that retrying it never repeats the POST.
func (d *Deliverer) ReportHealth(ctx context.Context, r AttemptReport) error {
	return d.Reporter.ReportAttempt(ctx, r)
}

// buildRequest renders the body and headers with the endpoint's profile.
// The returned header map is what is stored with the attempt.
func (d *Deliverer) buildRequest(ctx context.Context, w *models.DeliveryWork, number int, now time.Time) (*http.Request, map[string]string, error) {
	p, err := profile.Lookup(w.Endpoint.Profile)
	if err != nil {
		return nil, nil, err
	}
	current, previous := w.Endpoint.Keys(now)
	r, err := p.Render(profile.Message{
		EventID:    w.Event.ID,
		EventType:  w.Event.Type,
		TenantID:   w.Event.TenantID,
		Payload:    json.RawMessage(w.Event.Payload),
		OccurredAt: w.Event.OccurredAt,
		Attempt:    number,
		SentAt:     now,
	}, profile.Keys{Current: current, Previous: previous})
	if err != nil {
		return nil, nil, fmt.Errorf("render %s body: %w", w.Endpoint.Profile, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Endpoint.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range w.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "hookd/1")
	sendTraceparent(ctx, &w.Endpoint, req.Header)
	return req, storedHeaders(req.Header, &w.Endpoint), nil
}

func (d *Deliverer) send(req *http.Request, timeout time.Duration) AttemptResult {
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	resp, err := d.HTTP.Do(req.WithContext(ctx))
	if err != nil {
		return AttemptResult{Error: describeError(err, timeout)}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, models.MaxResponseExcerpt))
	// Drain a little more so the connection can be reused; give up past that.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	res := AttemptResult{StatusCode: resp.StatusCode, body: body}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		res.Succeeded = true
	default:
		res.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	if readErr != nil && res.Succeeded {
		// The status line came back 2xx within the timeout: that is success,
		// even if the body was cut short.
		res.Error = ""
	}
	return res
}

// parseRetryAfter reads delay-seconds or an HTTP date, bounded to a week.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(models.MaxRetryDelay/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), models.MaxRetryDelay)
}

// describeError turns a transport error into a short message without the URL.
func describeError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("timeout: no response within %s", models.FormatDuration(timeout))
	case errors.Is(err, ErrPrivateTarget):
		return "refused: " + err.Error() + " (set HOOKD_ALLOW_PRIVATE_TARGETS to allow it)"
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
