package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// The schema history: one folder per backend, one file per step, named
// NNNN_what_it_does.sql. The number is the step's version; versions run
// 1, 2, 3, … with no gap, so the order is the file names' order and a step
// cannot be skipped or numbered twice. A new step is a new file in every
// backend's folder, under the same number and name.
//
//go:embed migrations
var migrationFiles embed.FS

// Migration is one schema step. SQL may hold several statements separated by
// semicolons; it runs in one transaction with the step's entry in
// schema_migrations.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ErrSchemaTooNew is returned (wrapped) by Open when the database holds steps
// this binary does not know: it was written by a newer version, and running
// an older one against it could lose data.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")

// loadMigrations reads the ordered steps of one backend's folder.
func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations %s: %w", dir, err)
	}
	var steps []Migration
	for _, e := range entries { // ReadDir sorts by name
		num, rest, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: migration file %s/%s is not NNNN_name.sql", dir, e.Name())
		}
		if v != len(steps)+1 {
			return nil, fmt.Errorf("store: migration %s/%s has version %d, want %d (versions run 1, 2, 3, … without gaps)", dir, e.Name(), v, len(steps)+1)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		steps = append(steps, Migration{Version: v, Name: strings.ReplaceAll(rest, "_", " "), SQL: string(body)})
	}
	return steps, nil
}

// sqliteMigrations are the SQLite backend's steps.
func sqliteMigrations() ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations/sqlite")
}

// migrationsOf are the steps of backend b, from migrations/<b>.
func migrationsOf(b Backend) ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations/"+string(b))
}

// SchemaVersion is the newest version Open migrates to (the same on every
// backend; TestMigrationFoldersMatch guards it).
func SchemaVersion() int {
	steps, err := sqliteMigrations()
	if err != nil {
		panic(err) // the embedded files are part of the binary; TestMigrationFiles guards them
	}
	return len(steps)
}

// schemaMigrationsDDL records every applied step by version and name.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrationLock is the PostgreSQL advisory lock key that serialises
// instances migrating one database at once ("ntppool" in ASCII).
const migrationLock = 0x6e7470706f6f6c

// lockMigrations makes tx wait until no other instance is migrating; the
// lock ends with tx. SQLite needs none: its transactions are immediate,
// one writer at a time.
func (s *Store) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if s.backend != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(migrationLock)+`)`); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, steps []Migration) error {
	if err := s.createSchemaMigrations(ctx); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	if s.backend == SQLite {
		if err := s.adoptLegacyVersion(ctx); err != nil {
			return err
		}
	}
	applied, err := appliedMigrations(ctx, s.db)
	if err != nil {
		return err
	}
	if err := checkApplied(applied, steps); err != nil {
		return err
	}
	for _, m := range steps {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if err := s.migrateStep(ctx, m); err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	if s.backend != SQLite {
		return nil
	}
	// Kept for tools that read it; schema_migrations is what counts. PRAGMA
	// takes no bound parameters; the length is an int.
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return fmt.Errorf("store: set user_version: %w", err)
	}
	return nil
}

// createSchemaMigrations makes the table under the migration lock: two
// PostgreSQL sessions creating it at once would collide in the catalog
// even with IF NOT EXISTS.
func (s *Store) createSchemaMigrations(ctx context.Context) error {
	return s.inMigrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, schemaMigrationsDDL)
		return err
	})
}

// inMigrationTx runs fn in a transaction on the plain connection (scripts
// are not worth caching) that holds the migration lock on PostgreSQL (on
// SQLite the immediate transaction's write lock does the same), and
// commits when fn returns nil.
func (s *Store) inMigrationTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// appliedMigrations maps each recorded version to its name.
func appliedMigrations(ctx context.Context, db *sql.DB) (map[int]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]string{}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("store: read schema_migrations: %w", err)
		}
		applied[v] = name
	}
	return applied, rows.Err()
}

// checkApplied refuses a database that holds a step this binary does not
// have, or a step whose name differs from ours under the same number (two
// branches that numbered different steps alike).
func checkApplied(applied map[int]string, steps []Migration) error {
	for v, name := range applied {
		if v > len(steps) {
			return fmt.Errorf("%w: it has step %d (%s), this binary knows steps up to %d; run the newer binary or restore a backup",
				ErrSchemaTooNew, v, name, len(steps))
		}
		if want := steps[v-1].Name; name != want {
			return fmt.Errorf("store: database step %d is %q, this binary's step %d is %q", v, name, v, want)
		}
	}
	return nil
}

// migrateStep runs one step and records it in one migration transaction.
// The step is looked up again inside it, once the lock is held, so
// instances starting together apply it once.
func (s *Store) migrateStep(ctx context.Context, m Migration) error {
	return s.inMigrationTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.backend.rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.backend.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.Version, m.Name, time.Now().UnixMilli())
		return err
	})
}

// legacyStep says how to recognise, in a database from before
// schema_migrations, that a step of today's list was applied: by a table or a
// column it created. Those databases numbered core steps 1–99 and web steps
// 100+ in one PRAGMA user_version, so a core step added after the web ones
// (step 3 came after 100–104) was skipped on databases already past 100; the
// version alone cannot be trusted, the objects can.
var legacySteps = []struct{ table, column string }{
	1: {"accounts", ""},
	2: {"settings", ""},
	3: {"monitor_servers", "health_bucket"},
	4: {"sessions", ""},
	5: {"email_tokens", ""},
	6: {"invitations", ""},
	7: {"zone_counts", ""},
	8: {"alert_state", ""},
}

// adoptLegacyVersion fills schema_migrations for a SQLite database that
// only has a PRAGMA user_version, with the steps whose objects exist. Steps found
// missing are then applied by migrate like any other.
func (s *Store) adoptLegacyVersion(ctx context.Context) error {
	var n, userVersion int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&userVersion); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if n > 0 || userVersion == 0 {
		return nil
	}
	steps, err := sqliteMigrations()
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		for v := 1; v < len(legacySteps); v++ {
			obj := legacySteps[v]
			var found int
			query, args := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, []any{obj.table}
			if obj.column != "" {
				query, args = `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, []any{obj.table, obj.column}
			}
			if err := tx.x.QueryRowContext(ctx, query, args...).Scan(&found); err != nil {
				return fmt.Errorf("store: adopt legacy schema: %w", err)
			}
			if found == 0 {
				continue
			}
			if _, err := tx.x.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				v, steps[v-1].Name, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("store: adopt legacy schema: %w", err)
			}
		}
		return nil
	})
}
