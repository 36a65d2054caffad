package profile

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Bounds for opaque secrets (every profile but standard).
const (
	minTokenLen = 16
	maxTokenLen = 512
)

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// validateToken accepts an opaque secret of printable ASCII without spaces,
// long enough to be guessed by nobody and short enough to fit a header.
func validateToken(secret string) error {
	if len(secret) < minTokenLen || len(secret) > maxTokenLen {
		return fmt.Errorf("secret must be %d to %d characters long, got %d", minTokenLen, maxTokenLen, len(secret))
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("secret may contain only printable ASCII characters without spaces (character %d is not)", i+1)
		}
	}
	return nil
}

// currentKey returns the secret a single-signature profile signs with.
func currentKey(k Keys) (string, error) {
	if k.Current == "" {
		return "", errors.New("endpoint has no current secret")
	}
	return k.Current, nil
}

// hmacSHA256 returns HMAC-SHA256(key, msg).
func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
