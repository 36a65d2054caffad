// Package modelstest gives tests a real, empty, migrated store.
package modelstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// PostgresDSNEnv names the environment variable with the PostgreSQL DSN that
// tests run against (set by `make test` and so by .ci/run). Without it
// PostgreSQL tests are skipped, unless CI is set, where that is a failure.
const PostgresDSNEnv = "HOOKD_TEST_POSTGRES_DSN"

// OpenPostgres returns a migrated store on a schema of its own, dropped when
// the test ends. Its DSN() names that schema, for processes started by the test.
func OpenPostgres(t testing.TB) *models.Store {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL tests", PostgresDSNEnv)
		}
		t.Skipf("%s not set", PostgresDSNEnv)
	}
	admin, err := models.Open(dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	require.NoError(t, admin.DB().Exec("CREATE SCHEMA "+schema).Error)
	t.Cleanup(func() { admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := models.Open(u.String())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	return s
}
