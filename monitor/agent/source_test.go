package agent

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
)

// The agent probes from the registered address of a family when this host
// has it (not behind NAT), and a local setting wins.
func TestSourceAddr(t *testing.T) {
	lo, far, local := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("127.0.0.9")
	for _, c := range []struct{ local, registered, want netip.Addr }{
		{netip.Addr{}, lo, lo},
		{netip.Addr{}, netip.MustParseAddr("::1"), netip.MustParseAddr("::1")},
		{netip.Addr{}, far, netip.Addr{}}, // behind NAT: the system's choice
		{netip.Addr{}, netip.Addr{}, netip.Addr{}},
		{local, far, local},
	} {
		if got := sourceAddr(c.local, c.registered); got != c.want {
			t.Errorf("sourceAddr(%v, %v) = %v, want %v", c.local, c.registered, got, c.want)
		}
	}
}

// The control plane's probe settings apply unless overridden locally; the
// registered addresses become the sources when this host has them.
func TestConfigAppliesWithLocalOverrides(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	q, err := queue.Open(t.TempDir(), 10, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig()
	cfg.IPv4, cfg.IPv6, cfg.IP4, cfg.IP6 = true, true, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.1")
	for _, c := range []struct {
		opt  Options
		want []string
	}{
		{Options{}, []string{"samples=3", "spacing=50ms", "timeout=300ms", "source4=127.0.0.1", `source6=""`}},
		{Options{Samples: 5, Spacing: time.Second, Timeout: 2 * time.Second, Source6: netip.MustParseAddr("::1")},
			[]string{"samples=5", "spacing=1s", "timeout=2s", "source4=127.0.0.1", "source6=::1"}},
	} {
		logged.Reset()
		c.opt.API, c.opt.Queue, c.opt.Metrics, c.opt.Log, c.opt.Concurrency = struct{ API }{}, q, metrics.New(prometheus.NewRegistry()), log, 1
		a, err := New(c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.apply(cfg); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(logged.String(), w) {
				t.Errorf("options %+v: log lacks %q:\n%s", c.opt, w, logged.String())
			}
		}
	}
}
