package e2e

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/config"
)

// The README's "Try it" block runs as a newcomer pastes it, against a
// hookd dev of its own (its data dir holds the generated data/api-key the
// block reads), and prints what its "# →" lines say. Only addresses change:
// the API's and the echo receiver's ports are free ones, /tmp is the test's,
// and the test's receiver plays `hookd echo`.
func TestREADMETryItRunsAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: scripts/test-services.sh installs it", tool)
			}
			t.Skipf("%s is missing (scripts/test-services.sh installs it)", tool)
		}
	}
	t.Parallel()
	block := readmeBlock(t, "## Try it")
	dir := t.TempDir()
	cfg, err := config.Load(config.ModeDev, []string{
		"HOOKD_API_ADDR=127.0.0.1:0", "HOOKD_TEMPORAL_ADDRESS=127.0.0.1:0", "HOOKD_TEMPORAL_UI_PORT=0",
		"HOOKD_DATA_DIR=" + filepath.Join(dir, "data"),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer h.Stop(context.Background())
	rcv := newReceiver(t, always(200))

	const echo = "go run ./cmd/hookd echo 127.0.0.1:9000 &\n"
	require.Contains(t, block, echo, "the block starts the echo receiver")
	script := strings.NewReplacer(
		echo, "",
		"http://127.0.0.1:9000", rcv.URL,
		"localhost:8080", strings.TrimPrefix(h.APIURL, "http://"),
		"/tmp/", dir+"/",
	).Replace(block)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	checkShownOutput(t, block, string(out))
	require.Len(t, rcv.requests(), 1, "the echo receiver got the event")
	require.Contains(t, string(rcv.requests()[0].Body), `"lead_42"`)
}

// readmeBlock is the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(raw)
	i := strings.Index(text, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "README has %q", heading)
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	require.GreaterOrEqual(t, start, 0)
	text = text[start+len("```sh\n"):]
	end := strings.Index(text, "```")
	require.GreaterOrEqual(t, end, 0)
	return text[:end]
}

// checkShownOutput requires each "# → X" line of block to match a line of
// out, in order; "…" in X stands for any text.
func checkShownOutput(t *testing.T, block, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	shown := regexp.MustCompile(`(?m)^# → (.*)$`).FindAllStringSubmatch(block, -1)
	require.NotEmpty(t, shown, "the block shows what it prints")
	for _, m := range shown {
		parts := strings.Split(m[1], "…")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		want := regexp.MustCompile("^" + strings.Join(parts, ".+") + "$")
		for len(lines) > 0 && !want.MatchString(lines[0]) {
			lines = lines[1:]
		}
		require.NotEmpty(t, lines, "the block prints %q (output:\n%s)", m[1], out)
		lines = lines[1:]
	}
}

// Every saved Temporal UI view the README links is a query the visibility
// store accepts.
func TestREADMETemporalUIViewsAreValidQueries(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	views := regexp.MustCompile("(?m)^\\| [^|]+ \\| \\[`([^`]+)`\\]\\((http://127\\.0\\.0\\.1:8233/namespaces/default/workflows\\?query=[^)]+)\\) \\|$").
		FindAllStringSubmatch(string(raw), -1)
	require.GreaterOrEqual(t, len(views), 3, "the README links saved views")
	require.Len(t, views, strings.Count(string(raw), "](http://127.0.0.1:8233/namespaces/"),
		"every link to a Temporal UI view is a row of the table the test reads")
	for _, v := range views {
		link, err := url.Parse(v[2])
		require.NoError(t, err)
		require.Equal(t, v[1], link.Query().Get("query"), "the link runs the query it shows")
		_, err = hookd.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: strings.ReplaceAll(v[1], "ep_…", "ep_readme"),
		})
		require.NoError(t, err, "query %q", v[1])
	}
}
