// Package chronytest starts Debian's chronyd as a real NTP server on a
// loopback address for tests. chronyd always runs with -x, so no test ever
// sets this machine's clock, and serves its own clock as a local stratum 2
// reference. It imports only the standard library and beevik/ntp.
package chronytest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beevik/ntp"
)

// Server is one running chronyd.
type Server struct {
	// Addr is where it answers NTP.
	Addr netip.AddrPort
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// StartupTimeout bounds how long Start waits for chronyd's first answer.
var StartupTimeout = 15 * time.Second

// Start runs chronyd on ip (a loopback address such as "127.0.0.5") and a free
// port, waits until it answers an NTP query, and stops it when the test ends.
// It fails the test when chronyd is not installed.
func Start(t testing.TB, ip string) *Server {
	t.Helper()
	bin := chronydPath()
	if bin == "" {
		t.Fatal("chronytest: chronyd not found: run scripts/install-test-deps (it installs Debian's chrony)")
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.IsLoopback() {
		t.Fatalf("chronytest: %q is not a loopback address", ip)
	}
	var lastErr error
	for range 3 { // a port picked free may be taken before chronyd binds it
		s, err := start(t, bin, addr)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("chronytest: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string, ip netip.Addr) (*Server, error) {
	port, err := freeUDPPort(ip)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`local stratum 2
allow 127.0.0.0/8
allow ::1
bindaddress %s
port %d
cmdport 0
bindcmdaddress /
pidfile %s
driftfile %s
`, ip, port, filepath.Join(dir, "chronyd.pid"), filepath.Join(dir, "drift"))
	confPath := filepath.Join(dir, "chrony.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	s := &Server{Addr: netip.AddrPortFrom(ip, port), out: &lockedBuffer{}, done: make(chan struct{})}
	// -x: never touch the system clock. -d: stay in the foreground, log to stderr.
	s.cmd = exec.Command(bin, "-x", "-d", "-u", "root", "-f", confPath)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chronyd: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(StartupTimeout)
	for {
		r, err := ntp.QueryWithOptions(s.Addr.String(), ntp.QueryOptions{Timeout: 200 * time.Millisecond})
		if err == nil && r.Validate() == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("chronyd on %s exited: %s", s.Addr, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("chronyd on %s did not answer within %v (last: %v): %s", s.Addr, StartupTimeout, err, s.out.String())
		}
		// Not a sleep: the query above waited up to its timeout, or was
		// refused at once; pace the refused case on the process instead.
		select {
		case <-s.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop ends chronyd (SIGTERM, then SIGKILL after 5 s).
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Log returns what chronyd wrote so far.
func (s *Server) Log() string { return s.out.String() }

func chronydPath() string {
	if p, err := exec.LookPath("chronyd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/chronyd", "/sbin/chronyd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func freeUDPPort(ip netip.Addr) (uint16, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return 0, fmt.Errorf("pick a port on %s: %w", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port(), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 { // keep memory bounded: chronyd's start-up lines are what matter
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
