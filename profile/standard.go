package profile

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard is the Standard Webhooks profile (https://www.standardwebhooks.com),
// hookd's default.
//
// Body: {"type":EventType,"timestamp":OccurredAt (RFC 3339, UTC),"data":payload}.
// Headers: webhook-id (the event id, the same on every attempt),
// webhook-timestamp (SentAt in unix seconds) and webhook-signature: one
// "v1,<base64 HMAC-SHA256>" per valid secret, current first, space-separated,
// so receivers keep verifying while a rotated-out secret is still in grace.
//
// Secrets are "whsec_" followed by the standard base64 of a 24 to 64 byte key.
type Standard struct{}

const standardSecretPrefix = "whsec_"

func init() { Register(Standard{}) }

// Name implements Profile.
func (Standard) Name() string { return "standard" }

// Render implements Profile.
func (Standard) Render(m Message, k Keys) (Rendered, error) {
	if err := checkMessage(m); err != nil {
		return Rendered{}, fmt.Errorf("standard: %w", err)
	}
	data, err := compactObject(m.Payload)
	if err != nil {
		return Rendered{}, fmt.Errorf("standard: %w", err)
	}
	body := envelope(
		stringField("type", m.EventType),
		stringField("timestamp", m.OccurredAt.UTC().Format(time.RFC3339Nano)),
		rawField("data", data),
	)
	if k.Current == "" {
		return Rendered{}, errors.New("standard: endpoint has no current secret")
	}
	ts := m.SentAt.Unix()
	sigs := make([]string, 0, 1+len(k.Previous))
	for i, secret := range append([]string{k.Current}, k.Previous...) {
		sig, err := StandardSignature(secret, m.EventID, ts, body)
		if err != nil {
			if i == 0 {
				return Rendered{}, fmt.Errorf("standard: current secret: %w", err)
			}
			return Rendered{}, fmt.Errorf("standard: previous secret %d: %w", i, err)
		}
		sigs = append(sigs, sig)
	}
	h := newHeader()
	h.Set("webhook-id", m.EventID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return Rendered{Body: body, Header: h}, nil
}

// StandardSignature returns the Standard Webhooks signature of one message
// under one secret: "v1," + base64(HMAC-SHA256(key, msgID + "." + timestamp +
// "." + body)), where key is the base64-decoded part of secret after "whsec_".
func StandardSignature(secret, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := standardKey(secret)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, len(msgID)+len(body)+24)
	msg = append(msg, msgID...)
	msg = append(msg, '.')
	msg = strconv.AppendInt(msg, timestamp, 10)
	msg = append(msg, '.')
	msg = append(msg, body...)
	return "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, msg)), nil
}

func standardKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, standardSecretPrefix))
	if err != nil {
		return nil, errors.New("secret is not base64 after the whsec_ prefix")
	}
	if len(key) == 0 {
		return nil, errors.New("secret is empty")
	}
	return key, nil
}

// CheckEvent implements Profile: any JSON object is accepted.
func (Standard) CheckEvent(_ string, payload json.RawMessage) error {
	if err := checkObject(payload); err != nil {
		return fmt.Errorf("standard: %w", err)
	}
	return nil
}

// NewSecret implements Profile: "whsec_" + base64 of 24 random bytes.
func (Standard) NewSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("standard: read random bytes: %w", err)
	}
	return standardSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ValidateSecret implements Profile.
func (Standard) ValidateSecret(secret string) error {
	if !strings.HasPrefix(secret, standardSecretPrefix) {
		return errors.New("standard: secret must start with whsec_")
	}
	key, err := standardKey(secret)
	if err != nil {
		return fmt.Errorf("standard: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("standard: secret key must be 24 to 64 bytes, got %d", len(key))
	}
	return nil
}
