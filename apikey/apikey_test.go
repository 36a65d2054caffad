package apikey

import "testing"

func TestValidAcceptsOnlyTheConfiguredKeys(t *testing.T) {
	s := New([]string{"first-key-0123456789", "second-key-0123456789"})
	for key, want := range map[string]bool{
		"first-key-0123456789": true, "second-key-0123456789": true,
		"first-key-012345678": false, "": false, "first-key-0123456789 ": false,
	} {
		if got := s.Valid(key); got != want {
			t.Errorf("Valid(%q) = %v, want %v", key, got, want)
		}
	}
	if New(nil).Valid("") {
		t.Error("no keys: nothing is valid, not even the empty key")
	}
}
