package store

import (
	"context"
	"path/filepath"
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

// openTest opens a fresh store of backend b, closed when t ends.
func openTest(t testing.TB, b Backend) *Store {
	t.Helper()
	st, err := Open(context.Background(), testDSN(t, b))
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
