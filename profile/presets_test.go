package profile

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Each profile's test file checks its own catalog against its seed
// (TestVesselPresetMatchesTheSeed and so on); these tests cover every
// registered profile.

func TestPresetsCoverEveryRegisteredVendorProfile(t *testing.T) {
	t.Parallel()
	presets := Presets()
	var withPreset []string
	for _, name := range Names() {
		if caseOf(t, name).noCatalog {
			require.NotContains(t, presets, name, "%s has no vendor catalog", name)
			continue
		}
		withPreset = append(withPreset, name)
		require.NotEmpty(t, presets[name], name)
		seen := map[string]bool{}
		for _, pt := range presets[name] {
			require.NotEmpty(t, pt.Name, name)
			require.NotEmpty(t, pt.Description, pt.Name)
			require.False(t, seen[pt.Name], "%s listed twice", pt.Name)
			seen[pt.Name] = true
		}
	}
	require.Len(t, presets, len(withPreset), "presets are keyed by registered profile names")
	require.Equal(t, withPreset, PresetNames())
	require.True(t, caseOf(t, Default).noCatalog, "the standard profile's types are the sender's own")
	require.NotContains(t, presets, Default)
}

func TestPresetsReturnsACopy(t *testing.T) {
	t.Parallel()
	presets := Presets()
	require.NotEmpty(t, presets)
	for name, types := range presets {
		want := types[0].Name
		types[0].Name = "changed"
		require.Equal(t, want, Presets()[name][0].Name, name)
	}
}

// presetNames returns the names of a profile's preset types.
func presetNames(t *testing.T, name string) []string {
	t.Helper()
	var out []string
	for _, pt := range Presets()[name] {
		out = append(out, pt.Name)
	}
	return out
}
