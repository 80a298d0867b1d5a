// Package store keeps the control plane's state (accounts, users, servers,
// monitors, per-monitor scores, score history, vendor zones, batches) in
// SQLite through modernc.org/sqlite, or in PostgreSQL through
// github.com/jackc/pgx/v5 when Open is given a postgres:// URL. Both go
// through database/sql, so every method has one implementation.
//
// # Portability
//
// The SQL sticks to what SQLite and PostgreSQL share: INTEGER/REAL/TEXT
// columns (BIGINT/DOUBLE PRECISION/TEXT on PostgreSQL), partial unique
// indexes, `ON CONFLICT … DO UPDATE` and `RETURNING`. Times are INTEGER Unix
// milliseconds (UTC), NULL when absent; booleans are INTEGER 0/1. Queries
// are written with `?` placeholders, which the statement cache rewrites to
// $1, $2, … for PostgreSQL once per query text. PostgreSQL infers a
// placeholder's type from its use, so where the use does not say (a VALUES
// list, a CASE result, a factor of an integer column that gets a float) the
// SQL casts it: CAST(? AS DOUBLE PRECISION), which SQLite reads too.
// Callers that want an interface define it where they use it (e.g. `type
// serverStore interface{ Server(ctx, id) (store.Server, error) }`).
//
// # Migrations
//
// The schema is one ordered list of steps per backend, embedded from
// migrations/<backend>/NNNN_name.sql (see migrate.go). Every applied step is
// recorded by version and name in schema_migrations, so Open applies exactly
// the steps a database lacks, in order, each in one transaction with its
// record, and refuses a database that has a step this binary does not
// ([ErrSchemaTooNew]). Databases from before schema_migrations (a bare
// PRAGMA user_version) are adopted by looking for the objects each step made.
//
// # Usage
//
//	st, err := store.Open(ctx, "data/ntppool.db") // or "postgres://user@host/db"
//	defer st.Close()
//	id, err := st.CreateAccount(ctx, "example")
//	err = st.InTx(ctx, func(tx *store.Tx) error { … tx.CreateServer(ctx, …) … })
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a unique constraint refuses a row
// (e.g. an e-mail address or server IP that is already registered).
var ErrConflict = errors.New("store: already exists")

// Pragmas appended to a plain file name by DSN: WAL so readers never block the
// writer, foreign keys on, a busy timeout instead of SQLITE_BUSY, immediate
// transactions so a read-then-write transaction cannot deadlock on upgrade,
// synchronous=NORMAL (safe with WAL: a crash can lose the last commits
// only on power loss, never corrupt the file), and a 16 MiB page cache per
// connection (SQLite's default is 2 MiB; the ingest committer's index pages
// then stay in memory: about 8 % more results/s in BenchmarkIngestHTTP).
const dsnParams = "_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL&_pragma=cache_size(-16384)&_pragma=temp_store(memory)"

// DSN turns a file path into a modernc.org/sqlite DSN with our pragmas. A
// value that already holds a "?" is returned unchanged (an operator's DSN).
func DSN(path string) string {
	if strings.Contains(path, "?") {
		return path
	}
	return "file:" + path + "?" + dsnParams
}

// querier is what *sql.DB and *sql.Tx share; q's methods run on either.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q holds every entity method, so Store (auto-commit) and Tx (one
// transaction) offer the same methods from one implementation.
type q struct{ x querier }

// Store is the database. Its methods each run in their own transaction.
type Store struct {
	q
	db      *sql.DB
	cache   *stmtCache
	backend Backend
	writer  writer // InWriterTx's connection
}

// Tx is one transaction, handed to the function given to InTx.
type Tx struct {
	q
	backend Backend
}

// Open opens the database at dsn and migrates it to the newest schema: a
// postgres:// or postgresql:// URL opens PostgreSQL (the database must
// exist), anything else is a SQLite file path or DSN (created if needed).
func Open(ctx context.Context, dsn string) (*Store, error) {
	steps, err := migrationsOf(BackendOf(dsn))
	if err != nil {
		return nil, err
	}
	return openWith(ctx, dsn, steps)
}

// openWith is Open with the schema steps given (tests pass broken ones).
func openWith(ctx context.Context, dsn string, steps []Migration) (*Store, error) {
	backend := BackendOf(dsn)
	driver, source, conns := "sqlite", DSN(dsn), 8
	if backend == Postgres {
		// Reads and single statements run side by side; transactions
		// take turns (InTx). 16 stays well inside a small server's
		// max_connections with a few instances.
		driver, source, conns = "pgx", dsn, 16
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", Redacted(dsn), err)
	}
	// SQLite has one writer; more connections only help readers, and WAL
	// lets them run beside the writer.
	db.SetMaxOpenConns(conns)
	// Keep them all: database/sql closes all but 2 idle ones by default,
	// and a reopened connection prepares every cached statement again
	// (under concurrent API calls that was an eighth of ingest's CPU).
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", Redacted(dsn), err)
	}
	cache := &stmtCache{db: db, m: map[string]*sql.Stmt{}, rebind: backend.rebind}
	s := &Store{q: q{x: cachedQuerier{cache: cache}}, db: db, cache: cache, backend: backend}
	if err := s.migrate(ctx, steps); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Redacted is dsn without its password, for logs and messages.
func Redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return dsn
}

// Backend tells which database the store runs on.
func (s *Store) Backend() Backend { return s.backend }

// Close closes the database.
func (s *Store) Close() error {
	s.closeWriter()
	s.cache.close()
	return s.db.Close()
}

// DB exposes the handle for packages of this module that add their own
// tables (the web UI) and for metrics (sql.DBStats).
func (s *Store) DB() *sql.DB { return s.db }

// writerLock is the PostgreSQL advisory lock key every InTx takes.
const writerLock = 0x6e7470706f6f6d

// InTx runs fn in one transaction and commits when fn returns nil. The
// commit has happened when InTx returns nil.
//
// Transactions run one at a time, on both backends: SQLite's are
// immediate (the write lock is taken at BEGIN), and on PostgreSQL each
// first takes one advisory lock, held to its end. So a transaction that
// reads and then writes (a batch reads the other monitors' scores, then
// stores the median) sees every transaction committed before it, as on
// SQLite, across all control planes sharing the database. Single
// statements outside InTx do not wait for it.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.inTxOn(ctx, s.db.BeginTx, fn)
}

// ms converts a time to the stored form; the zero time is NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS converts a stored time back; NULL gives the zero time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound maps sql.ErrNoRows to ErrNotFound with the operation's prefix.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query and scans every row with scan; errors carry op.
func queryAll[T any](ctx context.Context, q q, op string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.x.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out, nil
}
