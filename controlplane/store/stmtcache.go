package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCached bounds the statement cache; queries built at run time beyond
// it run unprepared, as without a cache (a statement prepared and never
// closed would stay for the life of its connection: on PostgreSQL, in the
// server).
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

// get returns the cached statement of query, preparing it on first use;
// nil (and no error) once the cache is full.
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

// stmt is the statement of query, on the transaction when there is one;
// nil when the cache is full.
func (c cachedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := c.cache.get(ctx, query)
	if err != nil || st == nil || c.tx == nil {
		return st, err
	}
	// Closed with the transaction.
	return c.tx.StmtContext(ctx, st), nil
}

// direct is what runs a query the cache has no room for.
func (c cachedQuerier) direct() querier {
	if c.tx != nil {
		return c.tx
	}
	return c.cache.db
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

// QueryRowContext reports a prepare error through Row.Scan, as sql.DB does:
// an invalid query runs directly only to carry its error.
func (c cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		return c.direct().QueryRowContext(ctx, c.cache.rebind(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}
