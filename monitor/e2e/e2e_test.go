package e2e

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitor/agent"
	"github.com/ntppool-ng/ntppool/monitor/client"
	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
)

// TestAgentAgainstRealControlPlane: the agent fetches config and work from
// controlplane/api, probes real responders, and its results move the
// servers' scores the way POOL.md's steps say.
func TestAgentAgainstRealControlPlane(t *testing.T) {
	ctx := context.Background()
	cfgs := []ntpserver.Config{{}, {Offset: 100 * time.Millisecond}, {KissCode: "RATE"}, {Silent: true}}
	var addrs []netip.Addr
	for i := range cfgs {
		addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 91, byte(i + 1)}))
	}
	resp, err := ntpserver.ListenSamePort(addrs, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp {
		defer s.Close()
	}

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "cp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.CreateAccount(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	mid, err := st.CreateMonitor(ctx, store.Monitor{Name: "e2e", TokenHash: store.HashToken("e2e-token"), State: store.MonitorActive})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(addrs))
	for i, ip := range addrs {
		if ids[i], err = st.CreateServer(ctx, store.Server{IP: ip, AccountID: acct, Netspeed: 1000, InPool: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddMonitorServer(ctx, mid, ids[i], store.PairActive, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	acfg := api.Config{Score: score.DefaultConfig(), Assign: assign.Local(), TicketKey: []byte("0123456789abcdef0123456789abcdef"),
		AllowPrivate: true, Samples: 3, Spacing: 50 * time.Millisecond, Timeout: 300 * time.Millisecond, IdlePoll: 100 * time.Millisecond}
	// One hand-out per server is enough: probe again only after an hour.
	acfg.Assign.MinRescore, acfg.Assign.ActiveInterval, acfg.Assign.TestingInterval = 0, time.Hour, time.Hour
	hs := httptest.NewServer(api.New(st, acfg).Handler())
	defer hs.Close()

	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := client.New(client.Options{BaseURL: hs.URL, Token: "e2e-token", Log: log, MinBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(t.TempDir(), 100, log)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(prometheus.NewRegistry())
	a, err := agent.New(agent.Options{API: c, Queue: q, Metrics: m, Log: log, Concurrency: 10, Jitter: 10 * time.Millisecond,
		NTPPort: resp[0].Addr().Port(), SkipClockCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	scored := func() ([]store.Server, bool) {
		var out []store.Server
		for _, id := range ids {
			s, err := st.Server(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if s.LastScoreUpdate.IsZero() {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	var got []store.Server
	wait.For(t, 15*time.Second, "every server scored", func() bool {
		var ok bool
		got, ok = scored()
		return ok
	})
	// POOL.md steps from 0: good +1; 100 ms −6.667×0.1+1.167 ≈ 0.5; RATE −3.5; no response −5.
	want := []struct{ lo, hi float64 }{{0.99, 1.01}, {0.45, 0.55}, {-3.51, -3.49}, {-5.01, -4.99}}
	for i, s := range got {
		if s.Score < want[i].lo || s.Score > want[i].hi {
			t.Errorf("server %s (%+v): score %v, want in [%v, %v]", s.IP, cfgs[i], s.Score, want[i].lo, want[i].hi)
		}
	}
}
