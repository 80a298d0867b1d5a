package store

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Backend is the database behind a Store.
type Backend string

// The backends, chosen by the DSN given to Open.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// BackendOf tells which backend a DSN names: a postgres:// or
// postgresql:// URL is PostgreSQL, anything else a SQLite file or DSN.
func BackendOf(dsn string) Backend {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// rebind turns the store's `?` placeholders into the backend's: PostgreSQL
// numbers them ($1, $2, …). A `?` inside a quoted string or identifier is
// text and stays. The statement cache calls it once per query text.
func (b Backend) rebind(query string) string {
	if b != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var out strings.Builder
	out.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote we are inside, 0 outside
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote ('') closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			out.WriteByte('$')
			out.WriteString(strconv.Itoa(n))
			continue
		}
		out.WriteByte(c)
	}
	return out.String()
}

// isUnique tells whether err is a unique-constraint violation: SQLSTATE
// 23505 on PostgreSQL, SQLite's error text on SQLite (whose driver's error
// type carries only a numeric code).
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
