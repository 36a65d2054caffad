package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"

	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	// The server's SQLite plugin; importing it also registers the pure-Go
	// modernc.org/sqlite driver under the database/sql name "sqlite".
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// markerTable is created by the server's execution schema. The whole schema is
// applied in one transaction, so if this table exists, all of it does.
const markerTable = "executions"

// ensureSchema creates the Temporal SQLite schema (execution + visibility) in
// dbPath unless it is already there.
//
// Unlike the server's own helpers (which run statement by statement), it
// applies everything inside a single SQLite transaction (SQLite DDL is
// transactional): a crash during the very first start leaves either no schema
// or the full schema, never half of one, so "is it set up?" is a reliable
// single-table check on every later start.
//
// It uses its own short-lived database/sql handle (closed before returning)
// rather than the server's plugin, whose connection pool never closes
// connections.
func ensureSchema(ctx context.Context, dbPath string, pragmas map[string]string) (created bool, err error) {
	q := url.Values{}
	q.Set("mode", "rwc")
	keys := make([]string, 0, len(pragmas))
	for k := range pragmas {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Add("_pragma", k+"="+pragmas[k])
	}
	q.Add("_pragma", "busy_timeout=10000")
	db, err := sql.Open("sqlite", "file:"+dbPath+"?"+q.Encode())
	if err != nil {
		return false, fmt.Errorf("devserver: open %s: %w", dbPath, err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)

	var n int
	if err := db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, markerTable,
	).Scan(&n); err != nil {
		return false, fmt.Errorf("devserver: inspect %s: %w", dbPath, err)
	}
	if n > 0 {
		return false, nil
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("devserver: begin schema transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	if err := sqliteschema.SetupSchemaOnDB(txAdminDB{ctx: ctx, tx: tx}); err != nil {
		return false, fmt.Errorf("devserver: create schema in %s: %w", dbPath, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("devserver: commit schema in %s: %w", dbPath, err)
	}
	return true, nil
}

// txAdminDB adapts a *sql.Tx to the sqlplugin.AdminDB interface expected by
// sqliteschema.SetupSchemaOnDB. That function only ever calls Exec; every other
// method comes from the embedded nil interface and would panic if called.
type txAdminDB struct {
	sqlplugin.AdminDB
	ctx context.Context
	tx  *sql.Tx
}

func (t txAdminDB) Exec(stmt string, args ...any) error {
	_, err := t.tx.ExecContext(t.ctx, stmt, args...)
	return err
}
