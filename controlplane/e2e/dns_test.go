package e2e

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // the standard plugins
	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
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

// TestScoreChangeReachesDNSWithinASecond: a server's score crosses 10 in the
// store and, through the publisher, etcd and the plugin's watch, the
// server appears in (and, falling back, leaves) a real CoreDNS's answers in
// under 1.1 s.
func TestScoreChangeReachesDNSWithinASecond(t *testing.T) {
	ctx := context.Background()
	p := startPool(t)
	ip := netip.MustParseAddr("81.2.69.160")
	id, err := p.st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1500, Country: "gb", InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second server keeps the zone non-empty throughout.
	other := netip.MustParseAddr("81.2.69.161")
	oid, _ := p.st.CreateServer(ctx, store.Server{IP: other, Netspeed: 1500, Country: "gb", InPool: true})
	p.st.SetServerScore(ctx, oid, 20, time.Now())
	p.pub.Changed(oid)
	udp := p.startCoreDNS(t)
	wait.For(t, 5*time.Second, "initial answer", func() bool { return answers(t, udp, "pool.ntp.test", other) })

	var worst time.Duration
	for i := range 5 {
		p.st.SetServerScore(ctx, id, 10.5, time.Now())
		p.pub.Changed(id)
		in := wait.For(t, 5*time.Second, "server enters the DNS", func() bool { return answers(t, udp, "pool.ntp.test", ip) })
		p.st.SetServerScore(ctx, id, 9.5, time.Now())
		p.pub.Changed(id)
		out := wait.For(t, 5*time.Second, "server leaves the DNS", func() bool { return !answers(t, udp, "pool.ntp.test", ip) })
		t.Logf("round %d: score change to DNS answer: in %v, out %v", i, in, out)
		worst = max(worst, in, out)
	}
	if worst >= 1100*time.Millisecond {
		t.Fatalf("score change to DNS answer took %v, want under 1.1 s", worst)
	}
	t.Logf("worst score change to DNS answer over 5 rounds: %v", worst)
}
