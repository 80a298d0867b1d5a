package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// syncBuffer is a bytes.Buffer safe for one writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDev runs "controlplane dev" in-process until the banner is out and
// returns the banner and a stop function.
func startDev(t *testing.T, data string, ntpPort int) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
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
		return bytes.Contains([]byte(out.String()), []byte("dig @"))
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
	if pw == nil || !regexp.MustCompile(`dig @127\.0\.0\.1 -p 1053 pool\.ntp\.test`).MatchString(banner) ||
		!regexp.MustCompile(`web UI\s+http://127\.0\.0\.1:\d+/`).MatchString(banner) {
		t.Fatalf("banner lacks the log-in, web UI or dig line:\n%s", banner)
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
