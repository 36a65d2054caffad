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
	schemaDSN, drop, err := NewSchema(dsn)
	require.NoError(t, err)
	t.Cleanup(drop)
	s, err := models.Open(schemaDSN)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// NewSchema creates a fresh schema in the database at dsn and returns a DSN
// that uses it, and a function that drops it.
func NewSchema(dsn string) (string, func(), error) {
	admin, err := models.Open(dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := admin.DB().Exec("CREATE SCHEMA " + schema).Error; err != nil {
		admin.Close()
		return "", nil, err
	}
	drop := func() {
		admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Backends runs fn once per database backend, in parallel subtests named
// "sqlite" and "postgres", each with a fresh, empty, migrated store: a new
// SQLite file, or a new PostgreSQL schema.
func Backends(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := models.Open(t.TempDir() + "/hookd.db")
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		require.NoError(t, s.Migrate(context.Background()))
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenPostgres(t))
	})
}
