package census

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

func TestBuildCountsZonesAndSaveStoresTheDay(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range []store.Server{
		{IP: netip.MustParseAddr("192.0.2.1"), Netspeed: 1000, Country: "de", InPool: true, Score: 20},
		{IP: netip.MustParseAddr("192.0.2.2"), Netspeed: 1000, Country: "de", InPool: true, Score: 2},   // registered, not active
		{IP: netip.MustParseAddr("2001:db8::1"), Netspeed: 500, Country: "fr", InPool: true, Score: 20}, // IPv6, other country
		{IP: netip.MustParseAddr("192.0.2.3"), Netspeed: 1000, Country: "de", Score: 20},                // not in the pool
	} {
		if _, err := st.CreateServer(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	c, err := Save(ctx, st, score.DefaultConfig(), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("de", 4); got.Registered != 2 || got.Active != 1 || got.Weight != 1000 {
		t.Errorf("de v4 %+v, want 2 registered, 1 active, weight 1000", got)
	}
	if got := c.Get("europe", 6); got.Registered != 1 || got.Active != 1 {
		t.Errorf("europe v6 %+v", got)
	}
	if got := c.Get(Global, 4); got.Registered != 2 {
		t.Errorf("global v4 %+v", got)
	}
	rows, err := st.ZoneCounts(ctx, "asia")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Day != "2026-03-04" || rows[0].Registered != 0 {
		t.Fatalf("an empty continent's rows %+v, want both versions at 0", rows)
	}
	rows, _ = st.ZoneCounts(ctx, "de")
	if len(rows) != 2 || rows[0].Active+rows[1].Active != 1 {
		t.Fatalf("de rows %+v", rows)
	}
}
