package app

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/config"
)

// A port of the embedded Temporal server that another process holds makes
// hookd dev fail at once with the setting that moves it, as HOOKD_API_ADDR
// does for the API's port.
func TestDevPortConflictsNameTheSettingToChange(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	addr := taken.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"HOOKD_TEMPORAL_ADDRESS=" + addr, "HOOKD_TEMPORAL_UI_PORT=-1"},
			"HOOKD_TEMPORAL_ADDRESS: " + addr + " is taken"},
		{[]string{"HOOKD_TEMPORAL_ADDRESS=127.0.0.1:0", "HOOKD_TEMPORAL_UI_PORT=" + port},
			"HOOKD_TEMPORAL_UI_PORT: port " + port + " is taken"},
	} {
		env := append([]string{"HOOKD_DATA_DIR=" + t.TempDir(), "HOOKD_API_ADDR=127.0.0.1:0"}, tc.env...)
		cfg, err := config.Load(config.ModeDev, env)
		require.NoError(t, err)
		_, err = Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
		require.Error(t, err)
		require.Contains(t, err.Error(), tc.want)
		require.Contains(t, err.Error(), "stop it")
	}
}
