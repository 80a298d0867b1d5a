package store

import (
	"context"
	"fmt"
)

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
