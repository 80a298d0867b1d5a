package pgtest

import (
	"database/sql"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewDatabaseIsEmptyAndSeparate(t *testing.T) {
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("two tests got one database %s", a)
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (a BIGINT)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("tables in a fresh database: %d %v", n, err)
	}
	var user string
	if err := db.QueryRow(`SELECT current_user`).Scan(&user); err != nil || user != "postgres" {
		t.Fatalf("current_user %q %v", user, err)
	}
}

func TestNewDatabaseLikeCopiesWhatPrepareMadeOnce(t *testing.T) {
	prepares := 0
	prepare := func(dsn string) error {
		prepares++
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(`CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (7)`)
		return err
	}
	a, b := NewDatabaseLike(t, "tpl", prepare), NewDatabaseLike(t, "tpl", prepare)
	if prepares != 1 {
		t.Fatalf("prepare ran %d times, want once", prepares)
	}
	for i, dsn := range []string{a, b} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n, v int
		if err := db.QueryRow(`SELECT count(*), max(a) FROM t`).Scan(&n, &v); err != nil || n != 1 || v != 7 {
			t.Fatalf("copy %d: %d rows, a=%d, %v", i, n, v, err)
		}
		if i == 0 {
			db.Exec(`INSERT INTO t VALUES (8)`) // must not show in the second copy
		}
	}
}
