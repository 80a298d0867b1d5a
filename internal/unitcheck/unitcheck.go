// Package unitcheck checks the project's systemd unit files in tests with
// systemd-analyze verify, and reads the settings they give a service.
package unitcheck

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var execStart = regexp.MustCompile(`(?m)^ExecStart=(\S+)`)

// Verify runs systemd-analyze verify on the unit at path, with its
// ExecStart binary replaced by /bin/true (the real one is not installed
// here), and fails the test on any complaint: unknown keys, bad values.
func Verify(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !execStart.Match(b) {
		t.Fatalf("%s: no ExecStart", path)
	}
	unit := execStart.ReplaceAll(b, []byte("ExecStart=/bin/true"))
	tmp := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(tmp, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", tmp).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}

// Environment returns the unit's Environment= settings, with the
// credentials specifier %d replaced by credDir.
func Environment(t testing.TB, path, credDir string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Environment="); ok {
			env = append(env, strings.ReplaceAll(v, "%d", credDir))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}
