package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// Migrate releases its advisory lock: another session can take it at once
// (a leaked lock, held by a pooled connection, blocked every later start).
func TestMigrateReleasesItsLock(t *testing.T) {
	dsn := os.Getenv("HOOKD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("HOOKD_TEST_POSTGRES_DSN not set")
	}
	ctx := context.Background()
	s, err := Open(dsn)
	require.NoError(t, err)
	defer s.Close()
	// The public schema may hold tables of other runs: migrate in a schema
	// of this test's own.
	schema := fmt.Sprintf("t_lock_%d", time.Now().UnixNano())
	require.NoError(t, s.db.Exec("CREATE SCHEMA "+schema).Error)
	defer s.db.Exec("DROP SCHEMA " + schema + " CASCADE")
	scoped, err := Open(dsn + "&search_path=" + schema)
	require.NoError(t, err)
	defer scoped.Close()
	require.NoError(t, scoped.Migrate(ctx))
	require.NoError(t, scoped.Migrate(ctx))

	other, err := Open(dsn)
	require.NoError(t, err)
	defer other.Close()
	// Another process may be migrating right now: the lock must come free
	// within a while, which a leaked one never does.
	err = other.db.Connection(func(conn *gorm.DB) error {
		got := false
		for deadline := time.Now().Add(20 * time.Second); !got && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if err := conn.Session(&gorm.Session{NewDB: true}).Raw("SELECT pg_try_advisory_lock(?)", migrationLockKey()).Scan(&got).Error; err != nil {
				return err
			}
		}
		if !got {
			return errors.New("the migration lock is still held after Migrate returned")
		}
		return conn.Session(&gorm.Session{NewDB: true}).Exec("SELECT pg_advisory_unlock(?)", migrationLockKey()).Error
	})
	require.NoError(t, err)
}
