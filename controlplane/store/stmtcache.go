package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCached bounds the statement cache; queries beyond it run unprepared
// (the driver prepares and closes them per call), so nothing outlives its
// use.
const maxCached = 512

// stmtCache keeps one prepared statement per SQL text. Parsing SQL costs
// more than running our small statements (a profile of batch ingestion
// showed ~40% of the time in sqlite3_prepare), and the driver caches
// nothing itself.
type stmtCache struct {
	db *sql.DB
	// rebind turns the store's SQL into the backend's (placeholders);
	// the cache keys by the store's text, so it runs once per query.
	rebind func(string) string
	mu     sync.Mutex
	m      map[string]*sql.Stmt
}

// get returns the cached statement for query, preparing it on first use;
// nil (and no error) when the cache is full and query is not in it.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCached
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	if full {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, c.rebind(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		st.Close()
		return old, nil
	}
	if len(c.m) >= maxCached {
		st.Close()
		return nil, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// cachedQuerier runs queries through the cache, on the database or, when
// tx is set, inside that transaction (database/sql reuses the statement
// already prepared on the transaction's connection).
type cachedQuerier struct {
	cache *stmtCache
	tx    *sql.Tx
}

// stmt is the prepared statement for query, or nil when it is to run
// unprepared (the cache is full).
func (c cachedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := c.cache.get(ctx, query)
	if err != nil || st == nil || c.tx == nil {
		return st, err
	}
	// Closed with the transaction.
	return c.tx.StmtContext(ctx, st), nil
}

func (c cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.direct().ExecContext(ctx, c.cache.rebind(query), args...)
	}
	return st.ExecContext(ctx, args...)
}

func (c cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.direct().QueryContext(ctx, c.cache.rebind(query), args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext reports a prepare error through Row.Scan, as sql.DB does;
// an invalid query is prepared on the spot only to carry its error.
func (c cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		return c.direct().QueryRowContext(ctx, c.cache.rebind(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// direct runs a query unprepared, in the transaction when there is one.
func (c cachedQuerier) direct() interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
} {
	if c.tx != nil {
		return c.tx
	}
	return c.cache.db
}
