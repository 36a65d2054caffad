// Package apikey checks hookd's API keys: the REST API's bearer keys, and
// the key an operator signs in to the dashboard with.
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Set is the configured keys, kept as SHA-256 sums; safe for concurrent use.
type Set struct {
	sums [][32]byte
}

// New returns the set of keys.
func New(keys []string) *Set {
	s := &Set{}
	for _, k := range keys {
		s.sums = append(s.sums, sha256.Sum256([]byte(k)))
	}
	return s
}

// Valid reports whether key is one of the set, comparing against every key
// in constant time (the sums hide the keys' lengths).
func (s *Set) Valid(key string) bool {
	sum := sha256.Sum256([]byte(key))
	match := 0
	for _, k := range s.sums {
		match |= subtle.ConstantTimeCompare(sum[:], k[:])
	}
	return match == 1
}
