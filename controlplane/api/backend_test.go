package api

import (
	"path/filepath"
	"testing"

	"github.com/ntppool-ng/ntppool/internal/pgtest"
)

// PostgreSQL runs share one throwaway server per test binary.
func TestMain(m *testing.M) { pgtest.Main(m) }

// onEveryBackend runs bench as sub-benchmarks "sqlite" and "postgres",
// each on a fresh store.
func onEveryBackend(b *testing.B, bench func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { bench(b, filepath.Join(b.TempDir(), "bench.db")) })
	b.Run("postgres", func(b *testing.B) { bench(b, pgtest.NewDatabase(b)) })
}
