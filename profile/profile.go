// Package profile turns one event into the bytes and headers of one webhook
// POST, in the wire format an endpoint asked for.
//
// A Profile owns an envelope, its header names, its signature scheme and its
// secret format. The standard profile follows Standard Webhooks; the others
// reproduce the webhooks of four vendors (Vessel, SalesOS, Apideck and
// an inline-secret vendor) so their existing receivers verify hookd's
// deliveries unchanged. Each profile lives in its own file and registers
// itself in init, bringing its vendor's event catalog with it (Cataloged);
// everything that lists profiles (the API's validation, its OpenAPI enums,
// the preset loader, the registry-wide tests) reads the registry, so adding a
// profile touches no other file.
//
// Profiles are pure: Render is deterministic for a given Message and Keys,
// does no I/O, and never puts a secret into an error.
package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Default is the profile an endpoint gets when it names none.
const Default = "standard"

// ErrUnknownProfile is wrapped by Lookup when no profile has the name asked for.
var ErrUnknownProfile = errors.New("unknown profile")

// Message is one attempt of one event to one endpoint.
type Message struct {
	// EventID is sent as the id receivers deduplicate on; it is the same on
	// every attempt.
	EventID string
	// EventType is the event's type, such as "lead.created".
	EventType string
	// TenantID is the endpoint's tenant: a Vessel connection id, an Apideck
	// consumer, an inline-secret vendor's id space.
	TenantID string
	// Payload is a JSON object, as the caller ingested it.
	Payload json.RawMessage
	// OccurredAt is when the event happened.
	OccurredAt time.Time
	// Attempt is the 1-based number of this POST.
	Attempt int
	// SentAt is when this attempt is sent; header timestamps use it.
	SentAt time.Time
}

// Keys are an endpoint's signing secrets: Current, plus Previous ones that
// stay valid during a rotation grace period. Only profiles whose wire format
// can carry several signatures (standard) use Previous.
type Keys struct {
	Current  string
	Previous []string
}

// Rendered is the request one attempt sends. Header always includes
// Content-Type: application/json.
type Rendered struct {
	Body   []byte
	Header http.Header
}

// Profile is one wire format.
type Profile interface {
	// Name is the registry name endpoints refer to, such as "standard".
	Name() string
	// Render builds the body and headers of one attempt. It fails when the
	// message or keys cannot be rendered: no current secret, a payload
	// CheckEvent would refuse, an id that cannot travel in a header.
	Render(m Message, k Keys) (Rendered, error)
	// CheckEvent is called at ingest for every endpoint of this profile an
	// event fans out to; a non-nil error, naming the problem, refuses the
	// event. Most profiles only require a JSON object.
	CheckEvent(eventType string, payload json.RawMessage) error
	// NewSecret generates a signing secret in this profile's format.
	NewSecret() (string, error)
	// ValidateSecret checks a user-supplied secret at endpoint creation. Its
	// error never contains the secret.
	ValidateSecret(secret string) error
}

var registry = struct {
	sync.RWMutex
	byName map[string]Profile
}{byName: map[string]Profile{}}

// Register makes p available under p.Name(). It is meant to be called from
// init and panics when the name is empty or already taken.
func Register(p Profile) {
	registry.Lock()
	defer registry.Unlock()
	name := p.Name()
	if name == "" {
		panic("profile: Register with an empty name")
	}
	if _, dup := registry.byName[name]; dup {
		panic("profile: Register called twice for " + name)
	}
	registry.byName[name] = p
}

// Lookup returns the profile registered under name. For an unknown name the
// error wraps ErrUnknownProfile and lists the known names.
func Lookup(name string) (Profile, error) {
	registry.RLock()
	p, ok := registry.byName[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known profiles: %s)", ErrUnknownProfile, name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// Names returns the registered profile names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.byName))
	for name := range registry.byName {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// newHeader returns the headers every profile sends.
func newHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h
}

// checkMessage verifies the fields every profile needs. The id, type and
// tenant may travel in headers, so they must be valid header values.
func checkMessage(m Message) error {
	if m.EventID == "" {
		return errors.New("message has no event id")
	}
	if m.EventType == "" {
		return errors.New("message has no event type")
	}
	for _, f := range []struct{ what, value string }{{"event id", m.EventID}, {"event type", m.EventType}, {"tenant", m.TenantID}} {
		for i := 0; i < len(f.value); i++ {
			if c := f.value[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return fmt.Errorf("message %s contains a control character, which cannot travel in a header", f.what)
			}
		}
	}
	return nil
}
