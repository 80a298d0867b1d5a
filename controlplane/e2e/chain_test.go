package e2e

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/api/apitest"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/probe"
)

// TestProbesToDNSAnswer is the whole chain on a fast clock: an NTP server
// on 127.0.0.41 is registered (real NTP check), a monitor probes it through
// the API, its score rises, the publisher writes it to etcd and CoreDNS
// answers with it; then its clock goes 1 s off and it leaves the answers.
func TestProbesToDNSAnswer(t *testing.T) {
	ctx := context.Background()
	p := startPool(t)
	srv, err := ntpserver.Listen("127.0.0.41:0", ntpserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.Addr().Port()

	ac := assign.Local()
	ac.ActiveInterval, ac.ActiveTestingInterval, ac.TestingInterval, ac.SlowInterval, ac.MinRescore = 100*time.Millisecond,
		100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 0
	a := api.New(p.st, api.Config{Score: score.DefaultConfig(), Assign: ac, TicketKey: []byte(rand.Text()),
		AllowPrivate: true, IdlePoll: 100 * time.Millisecond, OnScores: func(ids []int64) { p.pub.Changed(ids...) }})
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()
	reg := registry.New(p.st, registry.Config{AllowPrivate: true, NTPPort: port, CheckTimeout: 500 * time.Millisecond,
		OnChange: func(id int64) { p.pub.Changed(id) }})

	tok := rand.Text()
	if _, err := p.st.CreateMonitor(ctx, store.Monitor{Name: "m", TokenHash: store.HashToken(tok), State: store.MonitorActive}); err != nil {
		t.Fatal(err)
	}
	speed := int64(1500)
	if _, err := reg.Register(ctx, 0, registry.Input{Address: "127.0.0.41", Netspeed: &speed, Country: "de"}); err != nil {
		t.Fatal(err)
	}
	pr, err := probe.New(probe.Options{Samples: 1, Timeout: 300 * time.Millisecond, Port: port, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (&apitest.Monitor{URL: hs.URL, Token: tok, Probe: pr}).Run(mctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("monitor: %v", err)
		}
	}()

	udp := p.startCoreDNS(t)
	ip := netip.MustParseAddr("127.0.0.41")
	in := wait.For(t, 20*time.Second, "the server in de.pool.ntp.test", func() bool { return answers(t, udp, "de.pool.ntp.test", ip) })
	srv.SetConfig(ntpserver.Config{Offset: time.Second})
	out := wait.For(t, 10*time.Second, "the server 1 s off out of the DNS", func() bool { return !answers(t, udp, "de.pool.ntp.test", ip) })
	s, _ := p.st.ServerByIP(ctx, ip)
	if s.Score >= 10 {
		t.Fatalf("score %v with the server out of the DNS", s.Score)
	}
	t.Logf("registration to DNS answer %v (14 probes on a 100 ms clock); 1 s offset to out of the DNS %v", in, out)
}
