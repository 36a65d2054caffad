package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ctrl-C of `make run`, the README's way to stop hookd, ends with hookd's
// exit 0 after a clean shutdown and no error from make: a terminal's Ctrl-C sends SIGINT to the
// whole foreground process group (make, its shell and hookd), and the test
// does the same. hookd runs on free ports with a data dir of its own.
func TestMakeRunStopsCleanlyOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookd and starts its embedded server")
	}
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("make is missing")
		}
		t.Skip("make is missing")
	}
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "run", "BIN="+filepath.Join(dir, "hookd"))
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(environWithoutHookd(),
		"HOOKD_API_ADDR=127.0.0.1:0", "HOOKD_TEMPORAL_ADDRESS=127.0.0.1:0", "HOOKD_TEMPORAL_UI_PORT=0",
		"HOOKD_DATA_DIR="+filepath.Join(dir, "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, w, err := os.Pipe() // read here, not through cmd, so Wait does not close it under the reader
	require.NoError(t, err)
	cmd.Stdout = w
	require.NoError(t, cmd.Start())
	require.NoError(t, w.Close())
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()

	running := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if sc.Text() == "Ctrl-C stops it." {
				running <- seen.String()
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// killed stops make and hookd and answers what they wrote to stderr,
	// read once nothing writes to it any more.
	killed := func() string {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Logf("make run killed: %v", <-done)
		return stderr.String()
	}
	select {
	case banner := <-running:
		require.Contains(t, banner, "hookd dev is running")
	case err := <-done:
		t.Fatalf("make run ended (%v) before hookd was running; stderr:\n%s", err, stderr.String())
	case <-time.After(10 * time.Minute):
		t.Fatalf("make run printed no banner in 10 minutes; stderr:\n%s", killed())
	}

	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
	select {
	case err := <-done:
		// hookd exits 0, so make reports no failed recipe. make itself was
		// sent the SIGINT too and, as GNU make always does, re-raises it
		// once its recipe has ended: status 130, silently, as for any
		// target stopped with Ctrl-C. `go run` used to turn the signal into
		// "make: *** [run] Error 1".
		var exit *exec.ExitError
		if err != nil {
			require.ErrorAs(t, err, &exit, "make run after Ctrl-C")
			ws, _ := exit.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT,
				"make run after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
		}
		require.NotContains(t, stderr.String(), "make: ***", "make reports no failed recipe")
		require.Contains(t, stderr.String(), "shutting down")
	case <-time.After(time.Minute):
		t.Fatalf("make run did not stop within a minute of Ctrl-C; stderr:\n%s", killed())
	}
}

// environWithoutHookd is the test's environment without HOOKD_ settings
// (such as HOOKD_TEST_POSTGRES_DSN, which hookd would refuse as unknown):
// hookd runs with the ones the test gives it only.
func environWithoutHookd() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKD_") {
			env = append(env, kv)
		}
	}
	return env
}
