package models

import (
	"net/textproto"
	"slices"
	"strings"
)

// RedactedValue stands in for the value of a secret header wherever hookd
// shows headers: endpoint answers and the headers stored with attempts.
const RedactedValue = "[redacted]"

// secretHeaderNames are secret whatever the endpoint says: they carry
// credentials by definition.
var secretHeaderNames = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "Api-Key": true, "Apikey": true, "X-Apikey": true,
	"X-Auth-Token": true, "X-Access-Token": true, "X-Csrf-Token": true, "X-Amz-Security-Token": true,
}

// secretHeaderWords make a header secret by default when its name holds one
// of them (X-Hub-Token, X-Client-Secret, X-Db-Password, X-Service-Auth).
var secretHeaderWords = []string{"token", "secret", "password", "passwd", "auth", "api-key", "apikey", "credential", "session"}

// SecretByDefault reports whether a header of this name is secret without
// being marked: a credential header, or a name that says it holds one.
func SecretByDefault(name string) bool {
	name = textproto.CanonicalMIMEHeaderKey(name)
	if secretHeaderNames[name] {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range secretHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// HeaderIsSecret reports whether the endpoint's custom header name is
// secret: marked in SecretHeaders, or secret by default.
func (e *Endpoint) HeaderIsSecret(name string) bool {
	name = textproto.CanonicalMIMEHeaderKey(name)
	return SecretByDefault(name) || slices.Contains(e.SecretHeaders, name)
}

// SecretHeaderNames lists, sorted, the endpoint's custom headers that are secret.
func (e *Endpoint) SecretHeaderNames() []string {
	out := []string{}
	for name := range e.Headers {
		if e.HeaderIsSecret(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// RedactHeaders returns a copy of h with the value of every header that is
// secret for this endpoint replaced by RedactedValue.
func (e *Endpoint) RedactHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if e.HeaderIsSecret(k) {
			v = RedactedValue
		}
		out[k] = v
	}
	return out
}
