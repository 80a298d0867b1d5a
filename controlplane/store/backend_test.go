package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ntppool-ng/ntppool/internal/pgtest"
)

// The PostgreSQL runs share one throwaway server per test binary.
func TestMain(m *testing.M) { pgtest.Main(m) }

// backends are what every store test runs on.
var backends = []Backend{SQLite, Postgres}

// testDSN names an empty database of backend b that lives as long as t.
func testDSN(t testing.TB, b Backend) string {
	t.Helper()
	if b == Postgres {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// openTest opens a fresh store of backend b, closed when t ends. On
// PostgreSQL it is a copy of a database migrated once per test binary,
// which is faster than migrating each; the migration tests use testDSN.
func openTest(t testing.TB, b Backend) *Store {
	t.Helper()
	var dsn string
	switch b {
	case SQLite:
		dsn = testDSN(t, b)
	case Postgres:
		dsn = pgtest.NewDatabaseLike(t, "store_migrated", func(dsn string) error {
			st, err := Open(context.Background(), dsn)
			if err != nil {
				return err
			}
			return st.Close()
		})
	}
	st, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachBackend runs f once per backend, as subtests named after them,
// each with a fresh store.
func forEachBackend(t *testing.T, f func(t *testing.T, st *Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) { f(t, openTest(t, b)) })
	}
}

func TestRebindNumbersPlaceholdersOutsideQuotes(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                              `SELECT 1`,
		`a = ? AND b = ?`:                       `a = $1 AND b = $2`,
		`x = '?' AND y = ? AND z = 'it''s ?'`:   `x = '?' AND y = $1 AND z = 'it''s ?'`,
		`"we?ird" = ? OR c IN (?, ?, ?)`:        `"we?ird" = $1 OR c IN ($2, $3, $4)`,
		`VALUES (?, ?), (?, ?), (?, ?), (?, ?)`: `VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8)`,
	} {
		if got := Postgres.rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
		if got := SQLite.rebind(in); got != in {
			t.Errorf("SQLite rebind changed %q to %q", in, got)
		}
	}
}

func TestBackendOf(t *testing.T) {
	for dsn, want := range map[string]Backend{
		"postgres://u@db.example/pool":    Postgres,
		"postgresql:///pool?host=/run/pg": Postgres,
		"data/ntppool.db":                 SQLite,
		"file:x.db?_journal_mode=WAL":     SQLite,
		"/var/lib/postgres.db":            SQLite,
	} {
		if got := BackendOf(dsn); got != want {
			t.Errorf("BackendOf(%q) = %s, want %s", dsn, got, want)
		}
	}
}

// Past maxCached distinct texts, queries still run (unprepared, nothing
// left behind) on both backends, inside and outside transactions.
func TestQueriesBeyondTheStatementCache(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		id, err := st.CreateAccount(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		for i := range maxCached + 5 {
			// A distinct text each time, as IN lists of run-time length are.
			q := `SELECT name FROM accounts WHERE id = ? AND ` + strconv.Itoa(i) + ` = ?`
			var name string
			if err := st.x.QueryRowContext(ctx, q, id, i).Scan(&name); err != nil || name != "a" {
				t.Fatalf("query %d: %q %v", i, name, err)
			}
		}
		if n := len(st.cache.m); n != maxCached {
			t.Fatalf("%d statements cached, want the bound %d", n, maxCached)
		}
		err = st.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.x.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ? AND 1 = 1`, "b", id); err != nil {
				return err
			}
			rows, err := tx.x.QueryContext(ctx, `SELECT name FROM accounts WHERE id = ? AND 2 = 2`, id)
			if err != nil {
				return err
			}
			defer rows.Close()
			if !rows.Next() {
				return errors.New("no row")
			}
			var name string
			if err := rows.Scan(&name); err != nil || name != "b" {
				return fmt.Errorf("name %q in the transaction: %v", name, err)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
