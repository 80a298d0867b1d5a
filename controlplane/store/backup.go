package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// BackupSQLite writes a consistent copy of the SQLite database at dsn to
// the new file out (VACUUM INTO), while other connections keep reading and
// writing. The database is not migrated first, so a backup taken before
// an upgrade holds the old schema. PostgreSQL databases are backed up
// with pg_dump instead (the controlplane backup command runs it).
func BackupSQLite(ctx context.Context, dsn, out string) error {
	if BackendOf(dsn) != SQLite {
		return errors.New("store: backup: not a SQLite database; use pg_dump")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("store: backup: %s exists; VACUUM INTO writes only a new file", out)
	}
	// Open would create a missing database: a typo would back up nothing.
	if !strings.Contains(dsn, "?") {
		if _, err := os.Stat(dsn); err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
	}
	db, err := sql.Open("sqlite", DSN(dsn))
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		return fmt.Errorf("store: backup to %s: %w", out, err)
	}
	return nil
}
