package operations

import (
	"errors"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// EndpointInput is an endpoint to create, or the changes to one (every field
// optional). Pointers and nil slices tell "absent" from "empty".
type EndpointInput struct {
	URL            *string           `json:"url"`
	TenantID       *string           `json:"tenant_id"`
	EventTypes     []string          `json:"event_types"`
	Profile        *string           `json:"profile"`
	Secret         *string           `json:"secret"`
	Headers        map[string]string `json:"headers"`
	SecretHeaders  []string          `json:"secret_headers"`
	RetrySchedule  []string          `json:"retry_schedule"`
	Timeout        *string           `json:"timeout"`
	PauseThreshold *int              `json:"pause_threshold"`
	Description    *string           `json:"description"`
	// SendTraceparent opts the receiver in to the traceparent of each
	// attempt (W3C Trace Context), sent while hookd traces.
	SendTraceparent *bool `json:"send_traceparent"`
}

// reservedHeaders cannot be set per endpoint: the HTTP layer or the profile owns them.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true,
	"Proxy-Authorization": true, "Proxy-Connection": true, "User-Agent": true,
}

// fieldApplier validates one field of in, if present, and sets it on next
// (cur is the endpoint as it was); it answers the columns it set.
type fieldApplier func(next, cur *models.Endpoint, in *EndpointInput) ([]string, error)

// endpointFields are checked in this order, so the first field at fault is
// the one named.
var endpointFields = []fieldApplier{
	applyURL, applyTenant, applyEventTypes, applyProfile, applySecret,
	applyHeaders, applySecretHeaders, applyRetrySchedule, applyTimeout,
	applyPauseThreshold, applyDescription, applySendTraceparent,
}

// applyEndpointInput validates the fields present in in and copies them
// onto e. It changes e only when every field is valid, and returns the
// columns it set, so an update writes those and no others.
func applyEndpointInput(e *models.Endpoint, in *EndpointInput) ([]string, error) {
	next := *e
	var columns []string
	for _, apply := range endpointFields {
		cs, err := apply(&next, e, in)
		if err != nil {
			return nil, err
		}
		columns = append(columns, cs...)
	}
	*e = next
	return columns, nil
}

func applyURL(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.URL == nil {
		return nil, nil
	}
	if err := validateURL(*in.URL); err != nil {
		return nil, invalid("url", "%s", err)
	}
	next.URL = *in.URL
	return []string{"url"}, nil
}

// applyTenant sets the tenant of a new endpoint (an update refuses a change first).
func applyTenant(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.TenantID == nil {
		return nil, nil
	}
	if !tenantPattern.MatchString(*in.TenantID) {
		return nil, invalid("tenant_id", tokenRule)
	}
	next.TenantID = *in.TenantID
	return nil, nil
}

func applyEventTypes(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.EventTypes == nil {
		return nil, nil
	}
	if len(in.EventTypes) == 0 || len(in.EventTypes) > 100 {
		return nil, invalid("event_types", "must list 1 to 100 filters (use [\"*\"] for all events)")
	}
	for _, f := range in.EventTypes {
		if len(f) > 255 || !filterPattern.MatchString(f) {
			return nil, invalid("event_types", "%q is not an event type, a \"prefix.*\" wildcard or \"*\"", f)
		}
	}
	next.EventTypes = append([]string(nil), in.EventTypes...)
	return []string{"event_types"}, nil
}

func applyProfile(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Profile == nil {
		return nil, nil
	}
	if _, err := profile.Lookup(*in.Profile); err != nil {
		return nil, invalid("profile", "%s", err)
	}
	next.Profile = *in.Profile
	return []string{"profile"}, nil
}

func applySecret(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Secret == nil {
		return nil, nil
	}
	p, _ := profile.Lookup(next.Profile)
	if err := p.ValidateSecret(*in.Secret); err != nil {
		return nil, invalid("secret", "%s", err)
	}
	next.Secret = *in.Secret
	return []string{"secret"}, nil
}

// applyHeaders sets the custom headers. A secret header sent back as GET
// showed it (models.RedactedValue) keeps its value.
func applyHeaders(next, cur *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Headers == nil {
		return nil, nil
	}
	if len(in.Headers) > 20 {
		return nil, invalid("headers", "at most 20 custom headers")
	}
	size := 0
	hs := make(map[string]string, len(in.Headers))
	for k, v := range in.Headers {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if !validHeaderName(k) || reservedHeaders[ck] || strings.HasPrefix(strings.ToLower(k), "webhook-") {
			return nil, invalid("headers", "%q cannot be set as a custom header", k)
		}
		if old, ok := cur.Headers[ck]; ok && v == models.RedactedValue && cur.HeaderIsSecret(ck) {
			v = old // sent back as GET showed it: unchanged
		}
		if !validHeaderValue(v) || len(v) > 1024 {
			return nil, invalid("headers."+k, "must be one line of at most 1024 bytes of text, without control characters")
		}
		size += len(k) + len(v)
		hs[ck] = v
	}
	if size > 8<<10 {
		return nil, invalid("headers", "custom headers may total at most 8 KiB")
	}
	next.Headers = hs
	return nil, nil // written with the secret headers
}

func applySecretHeaders(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Headers == nil && in.SecretHeaders == nil {
		return nil, nil
	}
	marked, err := secretHeaders(in.SecretHeaders, next.SecretHeaders, next.Headers)
	if err != nil {
		return nil, err
	}
	next.SecretHeaders = marked
	return []string{"headers", "secret_headers"}, nil
}

func applyRetrySchedule(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.RetrySchedule == nil {
		return nil, nil
	}
	s := make(models.Schedule, len(in.RetrySchedule))
	for i, r := range in.RetrySchedule {
		d, err := time.ParseDuration(r)
		if err != nil {
			return nil, invalid("retry_schedule", "entry %d: %q is not a duration like \"5m\"", i, r)
		}
		s[i] = d
	}
	if err := s.Validate(); err != nil {
		return nil, invalid("retry_schedule", "%s", err)
	}
	next.RetrySchedule = s
	return []string{"retry_schedule"}, nil
}

// MaxAttemptTimeout is the longest timeout an endpoint may have: one attempt
// takes at most this long (a worker's stop timeout and the Kubernetes
// chart's grace period are sized from it).
const MaxAttemptTimeout = time.Minute

func applyTimeout(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Timeout == nil {
		return nil, nil
	}
	d, err := time.ParseDuration(*in.Timeout)
	if err != nil || d < 100*time.Millisecond || d > MaxAttemptTimeout {
		return nil, invalid("timeout", "must be a duration from 100ms to 1m, like \"30s\"")
	}
	next.TimeoutMS = d.Milliseconds()
	return []string{"timeout_ms"}, nil
}

func applyPauseThreshold(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.PauseThreshold == nil {
		return nil, nil
	}
	if *in.PauseThreshold < 1 || *in.PauseThreshold > 10000 {
		return nil, invalid("pause_threshold", "must be between 1 and 10000")
	}
	next.PauseThreshold = *in.PauseThreshold
	return []string{"pause_threshold"}, nil
}

func applyDescription(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.Description == nil {
		return nil, nil
	}
	if len(*in.Description) > 1024 {
		return nil, invalid("description", "at most 1024 bytes")
	}
	next.Description = *in.Description
	return []string{"description"}, nil
}

func applySendTraceparent(next, _ *models.Endpoint, in *EndpointInput) ([]string, error) {
	if in.SendTraceparent == nil {
		return nil, nil
	}
	next.SendTraceparent = *in.SendTraceparent
	return []string{"send_traceparent"}, nil
}

// validateURL checks an endpoint's URL: http or https, with a host, without
// credentials or a fragment, at most 2048 bytes.
func validateURL(raw string) error {
	if len(raw) > 2048 {
		return errors.New("at most 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("must have a host")
	case u.User != nil:
		return errors.New("must not carry credentials; use headers instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a #fragment")
	}
	return nil
}

// secretHeaders is the list of custom headers marked secret: the names
// given (canonical, each one of headers), or, when none are given, those of
// the current list that are still among headers.
func secretHeaders(given, current []string, headers map[string]string) ([]string, error) {
	out := []string{}
	if given == nil {
		for _, k := range current {
			if _, ok := headers[k]; ok {
				out = append(out, k)
			}
		}
		return out, nil
	}
	if len(given) > 20 {
		return nil, invalid("secret_headers", "at most 20 names")
	}
	for _, k := range given {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if !validHeaderName(k) {
			return nil, invalid("secret_headers", "%q is not a header name", k)
		}
		if _, ok := headers[ck]; !ok {
			return nil, invalid("secret_headers", "%q is not one of the endpoint's headers", k)
		}
		if !slices.Contains(out, ck) {
			out = append(out, ck)
		}
	}
	slices.Sort(out)
	return out, nil
}

// validHeaderValue reports whether v is an HTTP field value: visible text,
// spaces and tabs, no control character (which the HTTP client refuses to
// send, so every attempt would fail).
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
