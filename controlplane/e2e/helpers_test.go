package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/leader"
	"github.com/ntppool-ng/ntppool/controlplane/publish"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
)

// pool is etcd, a store and a running publisher, for one test.
type pool struct {
	etcd *embedetcd.Server
	cli  *clientv3.Client
	st   *store.Store
	pub  *publish.Publisher
}

func startPool(t *testing.T) *pool {
	t.Helper()
	ctx := context.Background()
	etcd, cli := embedetcd.StartForTest(t)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	pub := publish.New(cli, st, publish.Config{Debounce: 20 * time.Millisecond, Recheck: time.Hour,
		Score: score.DefaultConfig(), Log: log})
	lead(t, cli, pub, log)
	return &pool{etcd: etcd, cli: cli, st: st, pub: pub}
}

// lead runs pub as the one job of a leader (2 s lease) until the test ends.
func lead(t *testing.T, cli *clientv3.Client, pub *publish.Publisher, log *slog.Logger) {
	l := leader.New(cli, leader.Config{TTL: 2 * time.Second, Log: log})
	l.Add("publisher", pub.Lead)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// startCoreDNS runs CoreDNS with ntppool for pool.ntp.test from p's etcd and
// returns its UDP address.
func (p *pool) startCoreDNS(t *testing.T) string {
	t.Helper()
	inst, udp, _, err := test.CoreDNSServerAndPorts(fmt.Sprintf(`pool.ntp.test:0 {
    ntppool {
        endpoint %s
        ns ns1.example.net
    }
}`, p.etcd.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	return udp
}

// answers reports whether an A query for name at addr returns want.
func answers(t *testing.T, addr, name string, want netip.Addr) bool {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
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
