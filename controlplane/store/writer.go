package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
)

// writer is the one connection InWriterTx runs on.
type writer struct {
	mu   sync.Mutex
	conn *sql.Conn
}

// InWriterTx is InTx on one connection kept for a single writer (the
// monitor API's group commit), one transaction at a time. On SQLite,
// Tx.DataVersion then tells that writer whether any other connection has
// committed since its last transaction, so what it cached of its own
// writes is still exact.
func (s *Store) InWriterTx(ctx context.Context, fn func(tx *Tx) error) error {
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: writer connection: %w", err)
		}
		w.conn = c
	}
	err := s.inTxOn(ctx, w.conn.BeginTx, fn)
	if err != nil {
		// A broken connection is not kept; a fresh one has a new data
		// version, which tells the caller to drop what it cached.
		w.conn.Close()
		w.conn = nil
	}
	return err
}

// closeWriter returns the writer's connection (Close).
func (s *Store) closeWriter() {
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// DataVersion is SQLite's data version of the transaction's connection:
// it changes when another connection commits, and not for the
// connection's own commits. ok is false on PostgreSQL, which has none.
func (tx *Tx) DataVersion(ctx context.Context) (v int64, ok bool, err error) {
	if tx.backend != SQLite {
		return 0, false, nil
	}
	if err := tx.x.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("store: data version: %w", err)
	}
	return v, true, nil
}

// inTxOn runs fn in a transaction begun by begin (InTx's body).
func (s *Store) inTxOn(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), fn func(tx *Tx) error) error {
	tx, err := begin(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if s.backend == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(writerLock)+`)`); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: begin: %w", err)
		}
	}
	if err := fn(&Tx{q: q{x: cachedQuerier{cache: s.cache, tx: tx}}, backend: s.backend}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
