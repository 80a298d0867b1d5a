package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/testlog"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// startDev runs "controlplane dev" in-process until the banner is out and
// returns the banner and a stop function.
func startDev(t *testing.T, data string, ntpPort int) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testlog.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "-data", data, "-listen", "127.0.0.1:0", "-etcd-listen", "", "-etcd-peer", "",
			"-monitor-bin", "", "-coredns-bin", "", "-ntp-port", strconv.Itoa(ntpPort), "-demo-servers", "2"}, &out, &errOut)
	}()
	wait.For(t, 30*time.Second, "dev banner", func() bool {
		select {
		case err := <-done:
			t.Fatalf("dev exited: %v\n%s", err, errOut.String())
		default:
		}
		return bytes.Contains([]byte(out.String()), []byte(" query -server "))
	})
	return out.String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v\n%s", err, errOut.String())
		}
	}
}

// TestDevFirstStartAndRestartKeepData: the first start creates the admin,
// the local monitor and registers the demo servers; a restart finds them
// all again with the same log-in.
func TestDevFirstStartAndRestartKeepData(t *testing.T) {
	data := t.TempDir()
	l, err := net.ListenPacket("udp", "127.0.0.11:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()

	banner, stop := startDev(t, data, port)
	pw := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(banner)
	if pw == nil || !regexp.MustCompile(`try\s+\S+ query -server 127\.0\.0\.1:1053 pool\.ntp\.test\n`).MatchString(banner) ||
		!regexp.MustCompile(`dig @127\.0\.0\.1 -p 1053 pool\.ntp\.test`).MatchString(banner) ||
		!regexp.MustCompile(`web UI\s+http://127\.0\.0\.1:\d+/`).MatchString(banner) {
		t.Fatalf("banner lacks the log-in, web UI or query and dig lines:\n%s", banner)
	}
	stop()

	banner2, stop2 := startDev(t, data, port)
	defer stop2()
	if pw2 := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(banner2); pw2 == nil || pw2[1] != pw[1] {
		t.Fatalf("restart changed the admin log-in:\n%s", banner2)
	}
	st, err := store.Open(context.Background(), filepath.Join(data, "ntppool.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	servers, _ := st.Servers(ctx)
	mons, _ := st.Monitors(ctx)
	u, err := st.UserByEmail(ctx, devAdminEmail)
	if len(servers) != 2 || len(mons) != 1 || err != nil || !u.IsAdmin || !u.CheckPassword(pw[1]) {
		t.Fatalf("after restart: %d servers, %d monitors, admin %+v (%v)", len(servers), len(mons), u, err)
	}
	// The demo servers are this machine's: verified, at their net speeds.
	for i, s := range servers {
		if s.VerifiedAt.IsZero() || s.AccountID != u.AccountID || s.Netspeed != demoServers[i].netspeed {
			t.Errorf("demo server %+v, want verified, the admin's, at %d kbit/s", s, demoServers[i].netspeed)
		}
	}
}

// startDevProcess runs "controlplane dev" as a process with a real
// monitor and CoreDNS as its children, and returns it once both run.
func startDevProcess(t *testing.T) (*exec.Cmd, []int) {
	t.Helper()
	bins := buildBins(t)
	var out testlog.Buffer
	cmd := exec.Command(os.Args[0], "dev", "-data", t.TempDir(), "-listen", "127.0.0.1:0", "-etcd-listen", "", "-etcd-peer", "",
		"-monitor-bin", filepath.Join(bins, "monitor"), "-coredns-bin", filepath.Join(bins, "coredns"),
		"-dns-listen", freePort(t), "-demo=false")
	cmd.Env = append(os.Environ(), "NTPPOOL_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = &out, t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var kids []int
	wait.For(t, 60*time.Second, "dev banner and its two children", func() bool {
		kids = children(t, cmd.Process.Pid)
		return strings.Contains(out.String(), " query -server ") && len(kids) == 2
	})
	return cmd, kids
}

// TestDevChildrenDieWithIt: when dev is killed with SIGKILL (no chance to
// clean up) the kernel kills its CoreDNS and monitor; on SIGTERM dev stops
// them itself before it exits cleanly.
func TestDevChildrenDieWithIt(t *testing.T) {
	t.Run("SIGKILL", func(t *testing.T) {
		dev, kids := startDevProcess(t)
		dev.Process.Signal(syscall.SIGKILL)
		dev.Wait()
		took := wait.For(t, 5*time.Second, "children gone after dev's SIGKILL", func() bool {
			return !slices.ContainsFunc(kids, alive)
		})
		t.Logf("children %v gone %v after dev was killed", kids, took)
	})
	t.Run("SIGTERM", func(t *testing.T) {
		dev, kids := startDevProcess(t)
		dev.Process.Signal(syscall.SIGTERM)
		if err := dev.Wait(); err != nil {
			t.Fatalf("dev after SIGTERM: %v", err)
		}
		if slices.ContainsFunc(kids, alive) {
			t.Fatalf("dev exited leaving children running: %v", kids)
		}
	})
}
