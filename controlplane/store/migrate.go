package store

import (
	"context"
	"fmt"
	"slices"
)

// Migration is one schema step. SQL may hold several statements separated
// by semicolons; it runs in one transaction with the version bump.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations is the schema history. Files of this package append to it from
// init() (see the package doc); Open sorts it by version.
var migrations []Migration

// SchemaVersion is the newest version Open migrates to.
func SchemaVersion() int {
	v := 0
	for _, m := range migrations {
		v = max(v, m.Version)
	}
	return v
}

func (s *Store) migrate(ctx context.Context) error {
	steps := slices.Clone(migrations)
	slices.SortFunc(steps, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(steps); i++ {
		if steps[i].Version == steps[i-1].Version {
			return fmt.Errorf("store: migrations %q and %q share version %d", steps[i-1].Name, steps[i].Name, steps[i].Version)
		}
	}
	var cur int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	for _, m := range steps {
		if m.Version <= cur {
			continue
		}
		err := s.migrateStep(ctx, m)
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// migrateStep runs one step and its version bump in one transaction, on the
// plain connection: scripts are not worth caching.
func (s *Store) migrateStep(ctx context.Context, m Migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; Version is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
		return err
	}
	return tx.Commit()
}
