package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/internal/testlog"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitor/internal/fakecp"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// buildAgent compiles this command into a temporary directory.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ntppool-monitor")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startAgent(t *testing.T, bin string, env []string, log *testlog.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func eventually(t *testing.T, what string, d time.Duration, cond func() bool, log *testlog.Buffer) {
	t.Helper()
	if !wait.Until(d, cond) {
		t.Fatalf("timed out after %v waiting for %s; agent log:\n%s", d, what, log)
	}
}

func queued(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "queue", "*.json"))
	var ids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r monitorapi.Results
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ids = append(ids, r.BatchID)
	}
	return ids
}

// TestRestartAfterSIGKILLDeliversQueue runs the real binary, kills it with
// SIGKILL while the control plane refuses submissions, and checks that the
// next start delivers what was queued, then stops cleanly on SIGTERM.
func TestRestartAfterSIGKILLDeliversQueue(t *testing.T) {
	bin := buildAgent(t)
	var addrs []netip.Addr
	for i := range 4 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 81, byte(i + 1)}))
	}
	srvs, err := ntpserver.ListenSamePort(addrs, make([]ntpserver.Config, len(addrs)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srvs {
		defer s.Close()
	}
	cfg := monitorapi.Config{MonitorID: 1, Samples: 3, Spacing: monitorapi.Duration(50 * time.Millisecond),
		Timeout: monitorapi.Duration(300 * time.Millisecond), BatchMax: 2, IdlePoll: monitorapi.Duration(50 * time.Millisecond)}
	cp := fakecp.New("secret-token", cfg, addrs, time.Hour)
	cp.MaxBatches = 2
	cp.FailResults.Store(http.StatusServiceUnavailable)
	hs := httptest.NewServer(cp)
	defer hs.Close()

	dir := t.TempDir()
	env := []string{
		"NTPPOOL_MONITOR_API_URL=" + hs.URL, "NTPPOOL_MONITOR_TOKEN=secret-token",
		"NTPPOOL_MONITOR_STATE_DIR=" + dir, "NTPPOOL_MONITOR_ALLOW_PRIVATE=true",
		"NTPPOOL_MONITOR_NTP_PORT=" + itoa(srvs[0].Addr().Port()), "NTPPOOL_MONITOR_SKIP_CLOCK_CHECK=true",
		"NTPPOOL_MONITOR_METRICS_LISTEN=", "NTPPOOL_MONITOR_JITTER=10ms",
	}
	log1 := &testlog.Buffer{}
	first := startAgent(t, bin, env, log1)
	eventually(t, "two batches queued on disk", 15*time.Second, func() bool { return len(queued(t, dir)) == 2 }, log1)
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	ids := queued(t, dir)
	if strings.Contains(log1.String(), "secret-token") {
		t.Error("the token appears in the log")
	}

	cp.FailResults.Store(0)
	log2 := &testlog.Buffer{}
	second := startAgent(t, bin, append(env, "NTPPOOL_MONITOR_METRICS_LISTEN=127.0.0.1:0"), log2)
	eventually(t, "the queue delivered after restart", 15*time.Second, func() bool {
		return cp.Stats().Committed == 2 && len(queued(t, dir)) == 0
	}, log2)
	var committed []string
	for _, b := range cp.Handed() {
		if b.Committed && len(b.Results) == 2 {
			committed = append(committed, b.ID)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(committed, ids) {
		t.Errorf("committed %v, queued before the kill %v", committed, ids)
	}
	if !strings.Contains(log2.String(), "resuming the result queue from disk") {
		t.Errorf("restart did not say it resumed:\n%s", log2)
	}
	_, metricsURL, ok := strings.Cut(log2.String(), "msg=metrics url=")
	metricsURL, _, _ = strings.Cut(metricsURL, "\n")
	if !ok {
		t.Fatalf("no metrics address in the log:\n%s", log2)
	}
	wants := []string{`ntppool_monitor_batches_total{outcome="accepted"} 2`, "ntppool_monitor_queue_batches 0",
		"ntppool_monitor_clock_trusted 1", "process_resident_memory_bytes"}
	eventually(t, "the metrics to show the delivery", 5*time.Second, func() bool {
		resp, err := http.Get(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				return false
			}
		}
		return true
	}, log2)
	second.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, log2)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit 15 s after SIGTERM\n%s", log2)
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("NTPPOOL_MONITOR_TOKEN", "s3cret")
	t.Setenv("NTPPOOL_MONITOR_CONCURRENCY", "42")
	t.Setenv("NTPPOOL_MONITOR_JITTER", "3s")
	t.Setenv("NTPPOOL_MONITOR_ALLOW_PRIVATE", "true")
	c, err := parseFlags([]string{"-queue-max", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "s3cret" || c.concurrency != 42 || c.jitter != 3*time.Second || !c.allowPrivate || c.queueMax != 7 {
		t.Errorf("config %+v", c)
	}
	c, err = parseFlags([]string{"-concurrency", "5"})
	if err != nil || c.concurrency != 5 {
		t.Errorf("flag did not override env: %v %d", err, c.concurrency)
	}
}

func TestFlagErrors(t *testing.T) {
	t.Setenv("NTPPOOL_MONITOR_CONCURRENCY", "many")
	if _, err := parseFlags(nil); err == nil || !strings.Contains(err.Error(), "NTPPOOL_MONITOR_CONCURRENCY") || !strings.Contains(err.Error(), "no token") {
		t.Errorf("err %v", err)
	}
}

// TestHelpMatchesREADME: -help never prints the token, and every flag it
// lists is in README.md's table with its environment variable.
func TestHelpMatchesREADME(t *testing.T) {
	bin := buildAgent(t)
	cmd := exec.Command(bin, "-help")
	cmd.Env = append(os.Environ(), "NTPPOOL_MONITOR_TOKEN=s3cret")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "s3cret") {
		t.Fatalf("err %v\n%s", err, out)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	n := 0
	for i, l := range lines {
		name, ok := strings.CutPrefix(l, "  -")
		if !ok || i+1 >= len(lines) {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		_, env, ok := strings.Cut(lines[i+1], "(env ")
		env, _, _ = strings.Cut(env, ")")
		env, _, _ = strings.Cut(env, ";")
		if !ok {
			t.Errorf("-%s: help names no environment variable", name)
			continue
		}
		n++
		if row := "| `-" + name + "` | `" + env + "` |"; !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
	if n < 15 {
		t.Errorf("found %d flags in -help:\n%s", n, out)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"20MiB": 20 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "1000": 1000} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	if _, err := parseBytes("lots"); err == nil {
		t.Error("accepted lots")
	}
}
