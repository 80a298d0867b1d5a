package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

func init() {
	migrations = append(migrations, Migration{Version: 2, Name: "settings", SQL: `
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);`})
}

// Setting returns a stored setting, or ErrNotFound.
func (q q) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := q.x.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: setting %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// SetSetting stores a setting, replacing any old value.
func (q q) SetSetting(ctx context.Context, name, value string) error {
	if _, err := q.x.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value); err != nil {
		return fmt.Errorf("store: set setting %s: %w", name, err)
	}
	return nil
}

// InitSetting stores value under name unless a value is there already, and
// returns the stored one: of several instances starting together, all end
// up with the first one's value.
func (q q) InitSetting(ctx context.Context, name, value string) (string, error) {
	var v string
	// The no-op update makes RETURNING give the existing row on conflict.
	err := q.x.QueryRowContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = settings.value RETURNING value`, name, value).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("store: init setting %s: %w", name, err)
	}
	return v, nil
}
