package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The dev API key is made once and read back on every later start, which
// says so (the banner no longer claims a key read back was "generated").
func TestDevAPIKeyIsMadeOnceThenReadBack(t *testing.T) {
	dir := t.TempDir()
	key, made, err := devAPIKey(dir)
	require.NoError(t, err)
	require.True(t, made)
	require.Regexp(t, `^hk_dev_[A-Za-z0-9_-]{32}$`, key)
	info, err := os.Stat(filepath.Join(dir, "api-key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, made, err := devAPIKey(dir)
	require.NoError(t, err)
	require.False(t, made, "read back, not made")
	require.Equal(t, key, again)
}
