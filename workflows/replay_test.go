package workflows

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// The histories in testdata were recorded from real runs (see
// e2e/record_histories_test.go). Today's code must make the same commands
// from them, or workflows open when a worker is upgraded would fail.
func TestRecordedHistoriesReplayDeterministically(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(Delivery)
			r.RegisterWorkflow(EndpointHealth)
			r.RegisterWorkflow(Prune)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}
