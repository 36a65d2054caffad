package api

import (
	"errors"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// endpointRequest is the body of POST /v1/endpoints (and, with every field
// optional, of PATCH). Pointers tell "absent" from "empty".
type endpointRequest struct {
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
}

var (
	tenantPattern    = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*$`)
	filterPattern    = regexp.MustCompile(`^(\*|[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*(\.\*)?)$`)
)

// reservedHeaders cannot be set per endpoint: the HTTP layer or the profile owns them.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true,
	"Proxy-Authorization": true, "Proxy-Connection": true, "User-Agent": true,
}

// applyEndpointRequest validates the fields present in req and copies them
// onto e. It changes e only when every field is valid, and returns the
// columns it set, so an update writes those and no others.
func applyEndpointRequest(e *models.Endpoint, req *endpointRequest) ([]string, error) {
	next := *e
	var columns []string
	if req.URL != nil {
		if err := validateURL(*req.URL); err != nil {
			return nil, invalid("url", "%s", err)
		}
		next.URL = *req.URL
		columns = append(columns, "url")
	}
	if req.TenantID != nil {
		if !tenantPattern.MatchString(*req.TenantID) {
			return nil, invalid("tenant_id", "must be 1 to 255 printable characters without spaces")
		}
		next.TenantID = *req.TenantID
	}
	if req.EventTypes != nil {
		if len(req.EventTypes) == 0 || len(req.EventTypes) > 100 {
			return nil, invalid("event_types", "must list 1 to 100 filters (use [\"*\"] for all events)")
		}
		for _, f := range req.EventTypes {
			if len(f) > 255 || !filterPattern.MatchString(f) {
				return nil, invalid("event_types", "%q is not an event type, a \"prefix.*\" wildcard or \"*\"", f)
			}
		}
		next.EventTypes = append([]string(nil), req.EventTypes...)
		columns = append(columns, "event_types")
	}
	if req.Profile != nil {
		if _, err := profile.Lookup(*req.Profile); err != nil {
			return nil, invalid("profile", "%s", err)
		}
		next.Profile = *req.Profile
		columns = append(columns, "profile")
	}
	if req.Secret != nil {
		p, _ := profile.Lookup(next.Profile)
		if err := p.ValidateSecret(*req.Secret); err != nil {
			return nil, invalid("secret", "%s", err)
		}
		next.Secret = *req.Secret
		columns = append(columns, "secret")
	}
	if req.Headers != nil {
		if len(req.Headers) > 20 {
			return nil, invalid("headers", "at most 20 custom headers")
		}
		size := 0
		hs := make(map[string]string, len(req.Headers))
		for k, v := range req.Headers {
			ck := textproto.CanonicalMIMEHeaderKey(k)
			if !validHeaderName(k) || reservedHeaders[ck] || strings.HasPrefix(strings.ToLower(k), "webhook-") {
				return nil, invalid("headers", "%q cannot be set as a custom header", k)
			}
			if old, ok := e.Headers[ck]; ok && v == models.RedactedValue && e.HeaderIsSecret(ck) {
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
	}
	if req.Headers != nil || req.SecretHeaders != nil {
		marked, err := secretHeaders(req.SecretHeaders, next.SecretHeaders, next.Headers)
		if err != nil {
			return nil, err
		}
		next.SecretHeaders = marked
		columns = append(columns, "headers", "secret_headers")
	}
	if req.RetrySchedule != nil {
		s := make(models.Schedule, len(req.RetrySchedule))
		for i, r := range req.RetrySchedule {
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
		columns = append(columns, "retry_schedule")
	}
	if req.Timeout != nil {
		d, err := time.ParseDuration(*req.Timeout)
		if err != nil || d < 100*time.Millisecond || d > time.Minute {
			return nil, invalid("timeout", "must be a duration from 100ms to 1m, like \"30s\"")
		}
		next.TimeoutMS = d.Milliseconds()
		columns = append(columns, "timeout_ms")
	}
	if req.PauseThreshold != nil {
		if *req.PauseThreshold < 1 || *req.PauseThreshold > 10000 {
			return nil, invalid("pause_threshold", "must be between 1 and 10000")
		}
		next.PauseThreshold = *req.PauseThreshold
		columns = append(columns, "pause_threshold")
	}
	if req.Description != nil {
		if len(*req.Description) > 1024 {
			return nil, invalid("description", "at most 1024 bytes")
		}
		next.Description = *req.Description
		columns = append(columns, "description")
	}
	*e = next
	return columns, nil
}

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
