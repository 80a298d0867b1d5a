package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

func backupCmd(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("backup -out FILE [flags]", "Writes a consistent copy of the database to FILE while the control plane runs:\n"+
		"SQLite with VACUUM INTO (FILE is a database file), PostgreSQL with pg_dump\n"+
		"(custom format, for controlplane restore or pg_restore). FILE must not exist.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	file := fs.String("out", "", "the backup file to write (required)")
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("backup: -out is required")
	}
	if store.BackendOf(*db) == store.SQLite {
		if err := store.BackupSQLite(ctx, *db, *file); err != nil {
			return err
		}
	} else {
		if _, err := os.Stat(*file); err == nil {
			return fmt.Errorf("backup: %s exists", *file)
		}
		if err := runPGTool(ctx, "pg_dump", *db, "--format=custom", "--no-owner", "--file="+*file); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	fmt.Fprintf(out, "backup of %s written to %s\n", store.Redacted(*db), *file)
	return nil
}

func restoreCmd(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("restore -in FILE [flags]", "Restores a backup made by controlplane backup into a new database: for SQLite\n"+
		"-db must not exist yet (the file is copied there); for PostgreSQL -db must be\n"+
		"an existing empty database (createdb), filled with pg_restore. The restored\n"+
		"database is then opened once, which migrates it to this binary's schema.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	file := fs.String("in", "", "the backup file to read (required)")
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("restore: -in is required")
	}
	if _, err := os.Stat(*file); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if store.BackendOf(*db) == store.SQLite {
		if err := copyNew(*file, *db); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	} else {
		if err := checkEmptyPG(ctx, *db); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if err := runPGTool(ctx, "pg_restore", *db, "--no-owner", "--no-privileges", "--exit-on-error",
			"--single-transaction", *file); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return fmt.Errorf("restore: the restored database does not open: %w", err)
	}
	st.Close()
	fmt.Fprintf(out, "%s restored into %s\n", *file, store.Redacted(*db))
	return nil
}

// copyNew copies src to the new file dst (never over an existing one: a
// restore must not clobber a live database), through a temp file so a
// failed copy leaves nothing.
func copyNew(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s exists; stop the control plane and move it away first", dst)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), dst) // fails if dst appeared meanwhile
}

// checkEmptyPG refuses a PostgreSQL database that already has tables in
// its schema: pg_restore into it would mix two pools' rows.
func checkEmptyPG(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%s is not empty (%d tables); restore into a new database (createdb)", store.Redacted(dsn), n)
	}
	return nil
}

// runPGTool runs a PostgreSQL client program on the database at dsn. The
// password, if the DSN has one, goes in PGPASSWORD, not on the command
// line where ps would show it.
func runPGTool(ctx context.Context, name, dsn string, args ...string) error {
	bin, err := pgTool(name)
	if err != nil {
		return err
	}
	env := os.Environ()
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
			dsn = u.String()
		}
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--dbname=" + dsn}, args...)...)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, msg)
	}
	return nil
}

// pgTool finds a PostgreSQL program on PATH or in Debian's versioned
// directories (the newest); it must be at least as new as the server.
func pgTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Strings(found) // 15 < 16 < 17: same number of digits in practice
	if len(found) == 0 {
		return "", fmt.Errorf("%s not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL client (Debian: postgresql-client)", name)
	}
	return found[len(found)-1], nil
}
