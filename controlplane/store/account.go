package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Account owns servers, monitors and vendor zones; users belong to one.
type Account struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// CreateAccount adds an account and returns its id.
func (q q) CreateAccount(ctx context.Context, name string) (int64, error) {
	var id int64
	err := q.x.QueryRowContext(ctx,
		`INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING id`,
		name, time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create account: %w", err)
	}
	return id, nil
}

// Account returns the account with id.
func (q q) Account(ctx context.Context, id int64) (Account, error) {
	var a Account
	var created sql.NullInt64
	err := q.x.QueryRowContext(ctx, `SELECT id, name, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return Account{}, notFound(fmt.Sprintf("account %d", id), err)
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// UpdateAccountName renames an account.
func (q q) UpdateAccountName(ctx context.Context, id int64, name string) error {
	return q.execOne(ctx, fmt.Sprintf("rename account %d", id),
		`UPDATE accounts SET name = ? WHERE id = ?`, name, id)
}

// execOne runs a statement that must change exactly one row.
func (q q) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := q.x.ExecContext(ctx, query, args...)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: %s: %w", op, ErrConflict)
		}
		return fmt.Errorf("store: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return nil
}
