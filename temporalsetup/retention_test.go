package temporalsetup

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/devserver"
)

// On a real server: a namespace EnsureNamespace registers keeps closed
// workflows an hour longer than hookd keeps its data, and follows a change
// of it; a namespace someone else made is left as it is, with a warning
// when it keeps workflows for less than hookd keeps deliveries.
func TestRetentionFollowsHookdOnlyOnNamespacesHookdRegistered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, err := devserver.Start(ctx, devserver.Config{
		DataDir: t.TempDir(), UIPort: -1, HTTPPort: -1, Namespace: "theirs", Retention: 24 * time.Hour,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	retentionOf := func(c client.Client, ns string) time.Duration {
		d, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		require.NoError(t, err)
		return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}

	ours := client.Options{HostPort: srv.FrontendHostPort(), Namespace: "ours"}
	require.NoError(t, EnsureNamespace(ctx, ours, 30*24*time.Hour))
	c, err := Dial(ctx, ours, log)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	require.Equal(t, 30*24*time.Hour+time.Hour, retentionOf(c, "ours"))
	require.NoError(t, Retention(ctx, c, "ours", 7*24*time.Hour, false, log))
	require.Equal(t, 7*24*time.Hour+time.Hour, retentionOf(c, "ours"), "hookd registered it: its retention follows HOOKD_RETENTION")
	require.NoError(t, EnsureNamespace(ctx, ours, 90*24*time.Hour))
	require.Equal(t, 7*24*time.Hour+time.Hour, retentionOf(c, "ours"), "EnsureNamespace leaves an existing namespace alone")

	logs.Reset()
	require.NoError(t, Retention(ctx, c, "theirs", 12*time.Hour, false, log))
	require.NotContains(t, logs.String(), "temporal.retention", "24 h of workflows cover 12 h of deliveries: nothing to say")
	require.NoError(t, Retention(ctx, c, "theirs", 30*24*time.Hour, false, log))
	require.Equal(t, 24*time.Hour, retentionOf(c, "theirs"), "a namespace hookd did not register is left alone")
	require.Contains(t, logs.String(), "temporal.retention_shorter")
	require.NoError(t, Retention(ctx, c, "theirs", 30*24*time.Hour, true, log))
	require.Equal(t, 30*24*time.Hour+time.Hour, retentionOf(c, "theirs"), "dev's own namespace follows HOOKD_RETENTION")
}
