package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestPrivateDBFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	db := filepath.Join(dir, "pool.db")
	if err := privateDBFile(db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, db: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	os.Chmod(db, 0o644)
	os.WriteFile(db+"-wal", nil, 0o644)
	if err := privateDBFile(db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, db + "-wal"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s left %v", p, fi.Mode().Perm())
		}
	}
	// A full DSN is left alone.
	if err := privateDBFile("file:"+filepath.Join(dir, "x.db")+"?mode=rwc", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a DSN's file was created")
	}
}
