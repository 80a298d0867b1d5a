package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // the standard plugins
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/publish"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	_ "github.com/ntppool-ng/ntppool/plugin" // registers ntppool
)

func init() {
	clog.Discard()
	// As plugin/coredns does: ntppool just before file.
	dirs := slices.Clone(dnsserver.Directives)
	if !slices.Contains(dirs, "ntppool") {
		i := slices.Index(dirs, "file")
		dirs = slices.Insert(dirs, i, "ntppool")
	}
	if err := dnsserver.SetDirectives(dirs); err != nil {
		panic(err)
	}
}

func answers(t *testing.T, addr string, want netip.Addr) bool {
	m := new(dns.Msg)
	m.SetQuestion("pool.ntp.test.", dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == want.String() {
			return true
		}
	}
	return false
}

// TestScoreChangeReachesDNSWithinASecond: a server's score crosses 10 in the
// store and, through the publisher, etcd and the plugin's watch, the
// server appears in (and, falling back, leaves) a real CoreDNS's answers in
// under 1.1 s.
func TestScoreChangeReachesDNSWithinASecond(t *testing.T) {
	ctx := context.Background()
	etcd, err := embedetcd.Start(embedetcd.Config{Dir: t.TempDir(), LogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Stop)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "dns.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ip := netip.MustParseAddr("81.2.69.160")
	id, err := st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1500, Country: "gb", InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second server keeps the zone non-empty throughout.
	other, _ := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("81.2.69.161"), Netspeed: 1500, Country: "gb", InPool: true})
	st.SetServerScore(ctx, other, 20, time.Now())

	pub := publish.New(cli, st, publish.Config{TTL: 2 * time.Second, Debounce: 20 * time.Millisecond, Recheck: time.Hour,
		Score: score.DefaultConfig(), Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pub.Run(pctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	inst, udp, _, err := test.CoreDNSServerAndPorts(fmt.Sprintf(`pool.ntp.test:0 {
    ntppool {
        endpoint %s
    }
}`, etcd.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	poll := func(what string, cond func() bool) time.Duration {
		start := time.Now()
		for !cond() {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
		}
		return time.Since(start)
	}
	other4 := netip.MustParseAddr("81.2.69.161")
	poll("initial answer", func() bool { return answers(t, udp, other4) })

	var worst time.Duration
	for i := range 5 {
		st.SetServerScore(ctx, id, 10.5, time.Now())
		pub.Changed(id)
		in := poll("server enters the DNS", func() bool { return answers(t, udp, ip) })
		st.SetServerScore(ctx, id, 9.5, time.Now())
		pub.Changed(id)
		out := poll("server leaves the DNS", func() bool { return !answers(t, udp, ip) })
		t.Logf("round %d: score change to DNS answer: in %v, out %v", i, in, out)
		worst = max(worst, in, out)
	}
	if worst >= 1100*time.Millisecond {
		t.Fatalf("score change to DNS answer took %v, want under 1.1 s", worst)
	}
	t.Logf("worst score change to DNS answer over 5 rounds: %v", worst)
}
