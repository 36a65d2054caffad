package profile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Fixed values so rendered output is reproducible.
var (
	fixedOccurredAt = time.Date(2021, 10, 1, 3, 14, 55, 419_000_000, time.UTC)
	fixedSentAt     = time.Date(2021, 10, 1, 3, 15, 0, 0, time.UTC)
)

func fixedMessage(eventType, tenant, payload string) Message {
	return Message{
		EventID:    "evt_01J9Z3Q4K8M2N7P5R6S0T1V2W3",
		EventType:  eventType,
		TenantID:   tenant,
		Payload:    json.RawMessage(payload),
		OccurredAt: fixedOccurredAt,
		Attempt:    2,
		SentAt:     fixedSentAt,
	}
}

func mustLookup(t testing.TB, name string) Profile {
	t.Helper()
	p, err := Lookup(name)
	require.NoError(t, err)
	return p
}

// requireGolden compares a rendered request with testdata/golden/<name>.golden,
// rewriting the file instead under -update.
func requireGolden(t *testing.T, name string, r Rendered) {
	t.Helper()
	var b strings.Builder
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.Write(r.Body)
	b.WriteString("\n")
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./profile/ -update to create it")
	require.Equal(t, string(want), b.String(), "rendered request differs from %s", path)
}

// nodePath returns the node binary, skipping the test when there is none,
// unless CI is set, where a missing node fails the test.
func nodePath(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is required in CI: %v", err)
		}
		t.Skipf("node not found, skipping the JavaScript cross-check: %v", err)
	}
	return path
}

// startNode runs a receiver script from testdata on a loopback port and
// returns its base URL; the process is stopped when the test ends.
func startNode(t *testing.T, script string, env ...string) string {
	t.Helper()
	cmd := exec.Command(nodePath(t), filepath.Join("testdata", script))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "%s did not report its port", script)
	var ready struct{ Port int }
	require.NoError(t, json.Unmarshal([]byte(line), &ready))
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
}

// runNode feeds inputs to testdata/js_stringify.js and returns its outputs,
// one for each input.
func runNode(t *testing.T, mode string, inputs []string) []string {
	t.Helper()
	var in bytes.Buffer
	for _, s := range inputs {
		line, err := json.Marshal(s)
		require.NoError(t, err)
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(nodePath(t), filepath.Join("testdata", "js_stringify.js"), mode)
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(inputs))
	got := make([]string, len(lines))
	for i, line := range lines {
		require.NoError(t, json.Unmarshal([]byte(line), &got[i]), "line %d: %s", i, line)
	}
	return got
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// post sends a rendered request and returns the status and response text.
func post(t *testing.T, url string, r Rendered) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.Body))
	require.NoError(t, err)
	req.Header = r.Header.Clone()
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(text)
}

// seedText returns a seed's text from testdata/seeds.
func seedText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds", name))
	require.NoError(t, err)
	return string(b)
}

// seedJSON returns every JSON object in a seed's text that starts with a line
// beginning with prefix (such as `{` followed by `"payload"`), compacted.
func seedJSON(t *testing.T, text, prefix string) [][]byte {
	t.Helper()
	var out [][]byte
	for rest := text; ; {
		i := strings.Index(rest, prefix)
		if i < 0 {
			return out
		}
		var raw json.RawMessage
		require.NoError(t, json.NewDecoder(strings.NewReader(rest[i:])).Decode(&raw))
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, raw))
		out = append(out, c.Bytes())
		rest = rest[i+len(prefix):]
	}
}

// profileCase is what the registry-wide tests (profile_test.go,
// presets_test.go) need to know about one profile. Each profile's own test
// file adds its case in init, so a new profile brings its case with it and
// those tests cover it without being edited; they fail for a registered
// profile that has no case.
type profileCase struct {
	// eventType and payload make a message the profile renders.
	eventType, payload string
	// weakSecrets must be refused by ValidateSecret; goodSecrets accepted
	// (besides the profile's own NewSecret).
	weakSecrets, goodSecrets []string
	// noCatalog: the profile has no vendor event catalog (standard: its event
	// types are the sender's own), so it must not appear in Presets.
	noCatalog bool
}

var profileCases = map[string]profileCase{}

// addProfileCase is called from init in each profile's test file.
func addProfileCase(name string, c profileCase) {
	if _, dup := profileCases[name]; dup {
		panic("profile test case added twice for " + name)
	}
	profileCases[name] = c
}

// caseOf returns the test case of a registered profile, failing the test
// when its test file added none.
func caseOf(t testing.TB, name string) profileCase {
	t.Helper()
	c, ok := profileCases[name]
	require.True(t, ok, "profile %q is registered but its test file adds no profileCase (see helpers_test.go)", name)
	return c
}
