package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// field is one member of an envelope: a name and an already-encoded JSON value.
type field struct {
	name  string
	value []byte
}

func stringField(name, value string) field { return field{name, quoteJSON(value)} }

func rawField(name string, value []byte) field { return field{name, value} }

func intField(name string, value int) field {
	return field{name, []byte(strconv.Itoa(value))}
}

// envelope writes the fields as one compact JSON object, in the order given.
// Profiles build their bodies this way rather than with encoding/json so the
// field order is the vendor's and nothing is HTML-escaped.
func envelope(fields ...field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(quoteJSON(f.name))
		b.WriteByte(':')
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// quoteJSON encodes s as a JSON string the way JavaScript's JSON.stringify
// does: only '"', '\\' and control characters are escaped; '<', '>', '&',
// U+2028 and U+2029 stay literal. Invalid UTF-8 becomes U+FFFD.
func quoteJSON(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range s {
		b = appendJSONRune(b, r)
	}
	return append(b, '"')
}

func appendJSONRune(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	switch r {
	case '"':
		return append(b, '\\', '"')
	case '\\':
		return append(b, '\\', '\\')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	if r < 0x20 {
		return append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
	}
	return utf8.AppendRune(b, r)
}

// compactObject checks that payload is one JSON object and returns it without
// insignificant whitespace, every other byte as the caller sent it.
func compactObject(payload json.RawMessage) ([]byte, error) {
	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, payload); err != nil {
		return nil, fmt.Errorf("payload is not valid JSON: %w", err)
	}
	return b.Bytes(), nil
}

// checkObject reports whether payload is valid JSON whose top level is an object.
func checkObject(payload json.RawMessage) error {
	if len(bytes.TrimSpace(payload)) == 0 {
		return errors.New("payload is empty; it must be a JSON object")
	}
	if !utf8.Valid(payload) {
		return errors.New("payload is not valid UTF-8")
	}
	if !json.Valid(payload) {
		return errors.New("payload is not valid JSON")
	}
	if bytes.TrimLeft(payload, " \t\r\n")[0] != '{' {
		return errors.New("payload must be a JSON object")
	}
	return nil
}
