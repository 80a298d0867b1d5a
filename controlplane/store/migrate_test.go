package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrationFilesRunWithoutGaps(t *testing.T) {
	steps, err := sqliteMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 8 {
		t.Fatalf("%d steps, want at least the 8 of the first release", len(steps))
	}
	for i, m := range steps {
		if m.Version != i+1 || m.Name == "" || strings.TrimSpace(m.SQL) == "" {
			t.Errorf("step %d: %+v", i, m)
		}
	}
}

func TestLoadMigrationsRefusesGapsAndDuplicates(t *testing.T) {
	for name, files := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/0003_c.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/0001_b.sql": {Data: []byte("SELECT 1")}},
		"bad name":  {"m/first.sql": {Data: []byte("SELECT 1")}},
		"not sql":   {"m/0001_a.txt": {Data: []byte("SELECT 1")}},
	} {
		if _, err := loadMigrations(files, "m"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	steps, _ := sqliteMigrations()
	broken := append(steps[:len(steps):len(steps)], Migration{Version: len(steps) + 1, Name: "broken",
		SQL: "CREATE TABLE x (a INTEGER); THIS IS NOT SQL"})
	path := filepath.Join(t.TempDir(), "f.db")
	if _, err := openWith(ctx, path, broken); err == nil {
		t.Fatal("Open accepted a broken migration")
	}
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	st.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'x'`).Scan(&n)
	if n != 0 {
		t.Fatal("half-applied migration left table x behind")
	}
	st.DB().QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != len(steps) {
		t.Fatalf("%d steps recorded, want %d", n, len(steps))
	}
}

func TestNewerSchemaFailsLoudly(t *testing.T) {
	ctx := context.Background()
	steps, _ := sqliteMigrations()
	path := filepath.Join(t.TempDir(), "new.db")
	newer := append(steps[:len(steps):len(steps)], Migration{Version: len(steps) + 1, Name: "from the future",
		SQL: "CREATE TABLE future (a INTEGER)"})
	st, err := openWith(ctx, path, newer)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "from the future") {
		t.Fatalf("Open on a newer schema: %v, want ErrSchemaTooNew naming the step", err)
	}
}

func TestRenumberedStepFails(t *testing.T) {
	ctx := context.Background()
	steps, _ := sqliteMigrations()
	path := filepath.Join(t.TempDir(), "r.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	other := append(steps[:len(steps)-1:len(steps)-1], Migration{Version: len(steps), Name: "something else", SQL: "SELECT 1"})
	if _, err := openWith(ctx, path, other); err == nil || !strings.Contains(err.Error(), "something else") {
		t.Fatalf("a database whose step %d differs opened: %v", len(steps), err)
	}
}

// copyFixture copies a database file from testdata into a temp dir.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(t.TempDir(), name)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// schema-v104-legacy.db was written by the first release (core steps 1–3 and
// web steps 100–104 in PRAGMA user_version = 104), with a row in every table.
func TestUpgradeFromFirstRelease(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, copyFixture(t, "schema-v104-legacy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	assertFullSchema(t, st)
	srv, err := st.Server(ctx, 1)
	if err != nil || srv.IP.String() != "192.0.2.10" || srv.Score != 17.5 {
		t.Fatalf("server 1 after upgrade: %+v %v", srv, err)
	}
	u, err := st.UserByEmail(ctx, "owner@example.org")
	if err != nil || !u.IsAdmin {
		t.Fatalf("user after upgrade: %+v %v", u, err)
	}
	if v, err := st.InitSetting(ctx, "ticket_key", "new"); err != nil || v != "fixture-key" {
		t.Fatalf("ticket key after upgrade: %q %v", v, err)
	}
}

// A database created between the web steps and core step 3 of the first
// release is at user_version 104 without step 3's columns: the old runner
// skipped step 3 for good. Adoption must find it missing and apply it.
func TestUpgradeAppliesSkippedLegacyStep(t *testing.T) {
	ctx := context.Background()
	path := copyFixture(t, "schema-v104-legacy.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"health_bucket", "hc_points", "hc_step", "hc_rtt", "hc_rtt_n", "hp_points", "hp_step", "hp_rtt", "hp_rtt_n", "last_step"} {
		if _, err := st.DB().Exec(`ALTER TABLE monitor_servers DROP COLUMN ` + col); err != nil {
			t.Fatal(err)
		}
	}
	// Objects of steps after the legacy ones go too: a legacy database
	// never had them.
	if _, err := st.DB().Exec(`DROP TABLE pair_health_hours; DROP INDEX monitor_servers_server_state; DROP TABLE schema_migrations; PRAGMA user_version = 104`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	assertFullSchema(t, st)
	var bucket int
	if err := st.DB().QueryRow(`SELECT health_bucket FROM monitor_servers`).Scan(&bucket); err != nil {
		t.Fatalf("step 3 not applied: %v", err)
	}
}

func assertFullSchema(t *testing.T, st *Store) {
	t.Helper()
	applied, err := appliedMigrations(context.Background(), st.DB())
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := sqliteMigrations()
	for _, m := range steps {
		if applied[m.Version] != m.Name {
			t.Errorf("step %d (%s) recorded as %q", m.Version, m.Name, applied[m.Version])
		}
	}
	var v int
	st.DB().QueryRow("PRAGMA user_version").Scan(&v)
	if v != len(steps) {
		t.Errorf("user_version %d, want %d", v, len(steps))
	}
}
