package models

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	_ "modernc.org/sqlite" // pure-Go "sqlite" driver, shared with the embedded Temporal server
)

// Store runs hookd's queries on one database.
type Store struct {
	db  *gorm.DB
	dsn string
}

// DSN is what the store was opened with (it may hold a password: never log it).
func (s *Store) DSN() string { return s.dsn }

// DB exposes the underlying handle for tests and health checks.
func (s *Store) DB() *gorm.DB { return s.db }

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.db.Name() }

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLitePath is where the embedded database lives inside a data dir.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "hookd.db") }

// Open connects to dsn: a postgres:// URL, or else the path of a SQLite file
// (created with its directory if missing). SQLite runs in WAL mode with
// synchronous=NORMAL: a committed write survives a crash of the process; an
// OS crash or power loss may lose the last transactions.
func Open(dsn string) (*Store, error) {
	cfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	if IsPostgres(dsn) {
		db, err := gorm.Open(postgres.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return &Store{db: db, dsn: dsn}, nil
	}
	if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	sqliteDSN := "file:" + dsn + "?_pragma=journal_mode(wal)&_pragma=synchronous(normal)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(on)&_txlock=immediate"
	// Prepared statements are kept and reused: SQLite compiles each SQL text
	// anew otherwise, which a profile of hookd-bench showed as a quarter of
	// the time hookd spends in its own database. (PostgreSQL's driver caches
	// prepared statements per connection by itself.)
	cfg.PrepareStmt = true
	cfg.PrepareStmtMaxSize = 512
	cfg.PrepareStmtTTL = time.Hour
	db, err := gorm.Open(sqlite.Dialector{DriverName: "sqlite", DSN: sqliteDSN}, cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// turns lock contention into a queue instead of "database is locked".
	sqlDB.SetMaxOpenConns(1)
	return &Store{db: db, dsn: dsn}, nil
}

// Close releases the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Migrate creates or updates the schema. It is safe to run twice, and safe to
// run from several processes at once on PostgreSQL (an advisory lock
// serialises them).
func (s *Store) Migrate(ctx context.Context) error {
	return s.withMigrationLock(ctx, func(db *gorm.DB) error {
		if err := migratePrimaryEndpoints(db.Session(&gorm.Session{NewDB: true})); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := db.AutoMigrate(&Endpoint{}, &Event{}, &Delivery{}, &Attempt{}, &EventType{}, &PrimaryEndpoint{}, &UISession{}); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := backfillReconcile(db.Session(&gorm.Session{NewDB: true})); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := migrateRetention(db.Session(&gorm.Session{NewDB: true})); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		// Dropped after the index that replaces it exists, so keys stay unique throughout.
		if db.Migrator().HasIndex(&Event{}, legacyIdempotencyIndex) {
			if err := db.Migrator().DropIndex(&Event{}, legacyIdempotencyIndex); err != nil {
				return fmt.Errorf("migrate: drop index %s: %w", legacyIdempotencyIndex, err)
			}
		}
		return nil
	})
}

func (s *Store) withMigrationLock(ctx context.Context, fn func(*gorm.DB) error) error {
	if s.Dialect() != "postgres" {
		return fn(s.db.WithContext(ctx))
	}
	key := migrationLockKey()
	return s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		// Each statement on a fresh session of the one connection: a
		// chained call on conn itself would share (and leave behind) its
		// statement state, and an unlock that carries an earlier query's
		// state or error never runs, leaving the lock held on a pooled
		// connection for good.
		fresh := func() *gorm.DB { return conn.Session(&gorm.Session{NewDB: true}) }
		if err := fresh().Exec("SELECT pg_advisory_lock(?)", key).Error; err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		defer fresh().Exec("SELECT pg_advisory_unlock(?)", key)
		return fn(fresh())
	})
}

// migrationLockKey is the PostgreSQL advisory lock that serialises migrations.
func migrationLockKey() int64 { return lockKey("hookd-migrations") }

// lockKey is the PostgreSQL advisory lock key of name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() >> 1)
}

// isUniqueViolation recognises a unique-constraint error on either driver.
func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}
