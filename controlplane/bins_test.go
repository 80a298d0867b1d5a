package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	binsOnce sync.Once
	binsDir  string
	binsErr  error
)

// buildBins builds CoreDNS with ntppool and the monitor agent once per
// test run (the Go build cache makes later builds quick) and returns the
// directory holding coredns and monitor.
func buildBins(t *testing.T) string {
	t.Helper()
	binsOnce.Do(func() {
		if binsDir, binsErr = os.MkdirTemp("", "controlplane-bins-"); binsErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binsDir+"/", "../plugin/coredns", "../monitor")
		if out, err := cmd.CombinedOutput(); err != nil {
			binsErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binsErr != nil {
		t.Fatal(binsErr)
	}
	return binsDir
}

// children lists the pids whose parent is pid (from /proc).
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			c, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			out = append(out, c)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie awaiting its reaper is dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// startCoreDNSBin runs the built CoreDNS with conf as its Corefile (and
// env added to its environment) until the test ends.
func startCoreDNSBin(t *testing.T, conf string, env ...string) *exec.Cmd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Corefile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(buildBins(t), "coredns"), "-conf", path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// queryDNS runs "controlplane query" against server and returns the
// addresses it printed (nil on a failed query).
func queryDNS(server, name string) []string {
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"query", "-server", server, "-timeout", "1s", name}, &out, &errOut); err != nil {
		return nil
	}
	return strings.Fields(out.String())
}
