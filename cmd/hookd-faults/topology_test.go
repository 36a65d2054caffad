package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The hookd processes of scripts/topology.sh get the topology's HOOKD_
// settings and none of their caller's: hookd refuses to start on a HOOKD_
// variable it does not know (the script's own directory setting was one).
func TestTopologyRunKeepsTheCallersHOOKDVariablesFromHookd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "hookd"), "../hookd").CombinedOutput()
	require.NoError(t, err, "%s", out)
	// A topology whose database port nobody listens on: hookd gets past its
	// settings and fails on the database.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "topology.env"), []byte(
		"TOPOLOGY_OWN_PG=1\nTOPOLOGY_PG_HOST=127.0.0.1\nTOPOLOGY_PG_HOOKD_PORT=1\nTOPOLOGY_DB_HOOKD=hookd\n"+
			"TOPOLOGY_TEMPORAL_ADDR=127.0.0.1:1\n"), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../../scripts/topology.sh", "run", "worker", "HOOKD_METRICS_ADDR=127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TOPOLOGY_DIR="+dir, "TOPOLOGY_BIN="+bin, "HOOKD_FROM_THE_CALLER=1")
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "no database: hookd must fail")
	require.NotContains(t, string(out), "unknown setting", "%s", out)
	require.Contains(t, string(out), "hookd worker:", "hookd ran and failed on the database: %s", out)
}

func TestTopologyRefusesTheOldHOOKDTopologyDir(t *testing.T) {
	cmd := exec.Command("bash", "../../scripts/topology.sh", "env")
	cmd.Env = append(os.Environ(), "HOOKD_TOPOLOGY_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "use TOPOLOGY_DIR")
}
