package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
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
//
// The server's helper applies the execution and the visibility schema
// together, so temporal.db and visibility.db each hold both; the tables a
// file's store does not use stay empty and cost nothing at run time. With
// trimVisibility, a newly created schema keeps only the visibility indexes in
// keptVisibilityIndexes (see there).
func ensureSchema(ctx context.Context, dbPath string, pragmas map[string]string, trimVisibility bool) (created bool, err error) {
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
	if trimVisibility {
		if err := trimVisibilityIndexes(ctx, tx); err != nil {
			return false, fmt.Errorf("devserver: trim visibility indexes in %s: %w", dbPath, err)
		}
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

// keptVisibilityIndexes are the indexes of executions_visibility a dev
// server keeps: the default listing, the UI's filters by workflow id, type
// and status, the namespace-division filter the UI adds, and every custom
// Keyword column (where hookd's search attributes live). The bundled schema
// has 58 indexes, and every start and close of a workflow writes all of
// them (a close is a delete and an insert); a dev server's visibility is
// queried rarely, by a person, over at most a retention period of rows, so
// the other columns are left to scans. Measured with hookd-bench, see
// BENCHMARKS.md.
var keptVisibilityIndexes = []string{
	"default_idx", "by_workflow_id", "by_workflow_type", "by_status", "by_temporal_namespace_division",
	"by_keyword_01", "by_keyword_02", "by_keyword_03", "by_keyword_04", "by_keyword_05",
	"by_keyword_06", "by_keyword_07", "by_keyword_08", "by_keyword_09", "by_keyword_10",
}

func trimVisibilityIndexes(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	var drop []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			_ = rows.Close()
			return err
		}
		if !slices.Contains(keptVisibilityIndexes, name) {
			drop = append(drop, name)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, name := range drop {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return err
		}
	}
	return nil
}

// visibilityPath is where dataDir's visibility store lives: its own file,
// except in a data dir whose temporal.db was made before the split (it has
// the visibility rows, and no visibility.db exists).
func visibilityPath(dataDir string) (string, error) {
	dbPath := filepath.Join(dataDir, DBFileName)
	visPath := filepath.Join(dataDir, VisibilityDBFileName)
	if _, err := os.Stat(visPath); err == nil {
		return visPath, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("devserver: %w", err)
	}
	if _, err := os.Stat(dbPath); err == nil {
		return dbPath, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("devserver: %w", err)
	}
	return visPath, nil
}
