package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// privateDBFile makes the SQLite database file readable by this user only
// (0600) before SQLite opens it; SQLite gives its -wal and -shm files the
// database file's mode. A missing parent directory is created 0700; an
// existing one that others can enter is only warned about, since it may be
// shared (the working directory). A full DSN ("file:...?...") is left to
// whoever wrote it.
func privateDBFile(path string, log *slog.Logger) error {
	if strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("database directory: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o007 != 0 {
		log.Warn("the database's directory is open to other users; make it 0700 or 0750", "dir", dir, "mode", fi.Mode().Perm().String())
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("database file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("database file: %w", err)
			}
		}
	}
	return nil
}
