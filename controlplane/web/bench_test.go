package web

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// benchSite is a store with 10,000 servers over every country, a month of
// score history (7 monitors every 9 minutes, plus overall rows) for the
// server the score pages show, and a month of daily zone counts.
func benchSite(b *testing.B) (*Server, int64) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	acct, _ := st.CreateAccount(ctx, "bench")
	user := store.User{AccountID: acct, Email: "bench@example.test"}
	user.ID, _ = st.CreateUser(ctx, user)
	ccs := record.Countries()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range 10000 {
			ip := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
			if i%3 == 0 {
				ip = fmt.Sprintf("2001:db8::%x", i)
			}
			owner := int64(0)
			if i < 50 {
				owner = acct
			}
			_, err := tx.CreateServer(ctx, store.Server{IP: mustAddr(ip), AccountID: owner, Netspeed: []int64{0, 1500, 12000, 100000}[i%4],
				Country: ccs[rng.IntN(len(ccs))], InPool: true, Score: rng.Float64()*40 - 20})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	target, _ := st.ServerByIP(ctx, mustAddr("10.0.0.1"))
	var mons []int64
	for i := range 7 {
		id, _ := st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprintf("mon%d", i), TokenHash: store.HashToken(fmt.Sprint(i)), State: store.MonitorActive})
		st.AddMonitorServer(ctx, id, target.ID, "active", now)
		mons = append(mons, id)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for t := now.Add(-30 * 24 * time.Hour); t.Before(now); t = t.Add(9 * time.Minute) {
			for j, m := range mons {
				off, rtt := rng.NormFloat64()*0.002, 0.02+0.01*float64(j)
				ts := t.Add(time.Duration(j) * time.Minute)
				if err := tx.AddLogScore(ctx, store.LogScore{ServerID: target.ID, MonitorID: m, Time: ts, Step: 1, Score: 19 + rng.Float64(), Offset: &off, RTT: &rtt}); err != nil {
					return err
				}
				if err := tx.AddLogScore(ctx, store.LogScore{ServerID: target.ID, Time: ts, Step: 1, Score: 19.5}); err != nil {
					return err
				}
			}
		}
		var rows []store.ZoneCount
		for d := range 30 {
			day := now.AddDate(0, 0, -d)
			for _, z := range append([]string{"@", "europe"}, ccs...) {
				for _, v := range []int{4, 6} {
					rows = append(rows, store.ZoneCount{Zone: z, IPVersion: v, Day: day.Format("2006-01-02"), TS: day, Registered: 40, Active: 30, Netspeed: 100000})
				}
			}
		}
		return tx.SaveZoneCounts(ctx, rows)
	})
	if err != nil {
		b.Fatal(err)
	}
	// The pages are measured, not the limit on large score requests.
	w, err := New(Config{ScoreDataBurst: 1 << 30}, Deps{Store: st, Registry: registry.New(st, registry.Config{}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return w, user.ID
}

// BenchmarkPages measures server-side render time per page (no network).
func BenchmarkPages(b *testing.B) {
	w, uid := benchSite(b)
	h := w.Handler()
	ctx := context.Background()
	u, _ := w.st.User(ctx, uid)
	for _, p := range []string{"/", "/zone/@", "/zone/de", "/zone/de.json", "/scores/10.0.0.1",
		"/scores/10.0.0.1/json?monitor=*&limit=10000", "/scores/10.0.0.1/log?monitor=*&limit=10000", "/scores/10.0.0.1/log", "/use"} {
		b.Run("page="+p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", p, rec.Code)
				}
			}
		})
	}
	// Pages behind log-in, through their handlers: the manage list (50
	// servers) and the admin lists (500 rows each).
	for _, pg := range []struct {
		path string
		h    userHandler
	}{{"/manage", w.listServers}, {"/admin/servers", w.listAllServers}, {"/admin/users", w.listUsers}, {"/admin/monitors", w.listMonitors}} {
		b.Run("page="+pg.path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				pg.h(rec, httptest.NewRequest(http.MethodGet, pg.path, nil), &u)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, rec.Code)
				}
			}
		})
	}
	// The home page when its counts must be rebuilt from all 10,000 servers.
	b.Run("page=/ (cold counts)", func(b *testing.B) {
		for b.Loop() {
			w.counts.Store(nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		}
	})
}
