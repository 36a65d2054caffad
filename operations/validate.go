package operations

import (
	"regexp"
	"strings"
)

var (
	tenantPattern    = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*$`)
	filterPattern    = regexp.MustCompile(`^(\*|[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*(\.\*)?)$`)
	idPattern        = regexp.MustCompile(`^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$`)
)

// IsID reports whether s is an id hookd issues with this prefix ("ep_").
func IsID(s, prefix string) bool {
	return idPattern.MatchString(s) && strings.HasPrefix(s, prefix)
}

// IsToken reports whether s can be a tenant id, an Idempotency-Key, a
// Vessel connectionId or webhookId: 1 to 255 printable ASCII characters
// without spaces.
func IsToken(s string) bool { return tenantPattern.MatchString(s) }

// IsEventType reports whether s has the shape of an event type name:
// dot-separated words of letters, digits, '_', '-' or ':'.
func IsEventType(s string) bool { return eventTypePattern.MatchString(s) }

const tokenRule = "must be 1 to 255 printable characters without spaces"
