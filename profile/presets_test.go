package profile

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPresetsCoverEveryRegisteredVendorProfile(t *testing.T) {
	t.Parallel()
	presets := Presets()
	for _, name := range Names() {
		if name == Default {
			require.NotContains(t, presets, name, "the standard profile's types are the sender's own")
			continue
		}
		require.NotEmpty(t, presets[name], name)
		seen := map[string]bool{}
		for _, pt := range presets[name] {
			require.NotEmpty(t, pt.Description, pt.Name)
			require.False(t, seen[pt.Name], "%s listed twice", pt.Name)
			seen[pt.Name] = true
		}
	}
}

func TestPresetsReturnsACopy(t *testing.T) {
	t.Parallel()
	Presets()["salesos"][0].Name = "changed"
	require.Equal(t, "lead.created", Presets()["salesos"][0].Name)
}

func TestPresetsMatchTheSeedCatalogs(t *testing.T) {
	t.Parallel()
	presets := Presets()

	var vessel []string
	for _, pt := range presets["vessel"] {
		vessel = append(vessel, pt.Name)
		require.Contains(t, seedText(t, "000_vessel.txt"), `"type": "`+pt.Name+`"`)
	}
	require.Equal(t, []string{"OBJECT_CHANGE", "STATUS_CHANGE"}, vessel)

	var salesos []PresetType
	for _, m := range regexp.MustCompile(`(?m)^([a-z]+\.[a-z]+) \| (.+?) \|$`).FindAllStringSubmatch(seedText(t, "001_salesos.txt"), -1) {
		salesos = append(salesos, PresetType{m[1], m[2]})
	}
	require.Len(t, salesos, 20)
	require.Equal(t, salesos, presets["salesos"])

	seed2 := seedText(t, "002_apideck.txt")
	var apideck []PresetType
	descriptions := regexp.MustCompile(`(?m)^Event broadcast .*$`).FindAllString(seed2, -1)
	for i, m := range regexp.MustCompile(`"event_type": "([^"]+)"`).FindAllStringSubmatch(seed2, -1) {
		apideck = append(apideck, PresetType{m[1], descriptions[i]})
	}
	require.Len(t, apideck, 9)
	require.Equal(t, apideck, presets["apideck"])

	var inline []string
	for _, m := range regexp.MustCompile(`(?m)^\s*• [A-Za-z ]+(?:Events|Message): (.+)$`).FindAllStringSubmatch(seedText(t, "003_inline_secret.txt"), -1) {
		inline = append(inline, strings.Split(m[1], ", ")...)
	}
	var got []string
	for _, pt := range presets["inline-secret"] {
		got = append(got, pt.Name)
	}
	require.Len(t, inline, 34)
	require.Equal(t, inline, got)
}
