// Package census counts the pool's servers per zone and IP version: how
// many are registered, how many are active (in the DNS by the publisher's
// rule, score.Config) and their summed weight. The web site shows the
// counts on its home and zone pages; the leader's zone counts job (Daily)
// stores them as the day's row of every zone's history.
//
// # Usage
//
//	c, err := census.Build(ctx, st, score.DefaultConfig(), time.Now())
//	active := c.Get("de", 4).Active
//	l.Add("zone counts", census.Daily(st, scoreCfg, 4*time.Hour, time.Now, log))
package census

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/leader"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// Global is the label of the global zone on pages and in zone_counts.
const Global = "@"

// Key is one zone and IP version.
type Key struct {
	Zone string
	IPv  int
}

// Stat counts one zone and IP version.
type Stat struct {
	Registered int
	Active     int
	Weight     int64 // sum of the active servers' published weights
}

// Census is a snapshot of every zone's counts; it is not changed after
// Build, so readers take no lock.
type Census struct {
	At    time.Time
	zones map[Key]Stat
}

// Get returns the counts of one zone and IP version (zero when it has no
// servers).
func (c *Census) Get(zone string, ipv int) Stat { return c.zones[Key{zone, ipv}] }

// ZonesOf returns the zones a server with country cc is in: the global
// zone, that country's continent and the country.
func ZonesOf(cc string) []string {
	z := []string{Global}
	if cz := record.CountryZone(cc); cz != "" {
		if cont := record.Continent(cz); cont != "" {
			z = append(z, cont)
		}
		z = append(z, cz)
	}
	return z
}

// IPVersion is 4 or 6.
func IPVersion(s store.Server) int {
	if s.IP.Unmap().Is4() {
		return 4
	}
	return 6
}

// ScoreServer is what the score rules read of a server.
func ScoreServer(s store.Server) score.Server {
	return score.Server{Score: s.Score, NetSpeed: s.Netspeed, Deletion: s.DeletionOn}
}

// Lister is the store read a census needs.
type Lister interface {
	Servers(ctx context.Context) ([]store.Server, error)
}

// Build counts every zone at now.
func Build(ctx context.Context, st Lister, cfg score.Config, now time.Time) (*Census, error) {
	srvs, err := st.Servers(ctx)
	if err != nil {
		return nil, fmt.Errorf("census: %w", err)
	}
	c := &Census{At: now, zones: make(map[Key]Stat)}
	for _, srv := range srvs {
		if !srv.InPool {
			continue
		}
		v := IPVersion(srv)
		w := cfg.Weight(now, ScoreServer(srv))
		for _, z := range ZonesOf(srv.Zone()) {
			k := Key{z, v}
			st := c.zones[k]
			st.Registered++
			if w > 0 {
				st.Active++
				st.Weight += w
			}
			c.zones[k] = st
		}
	}
	return c, nil
}

// Rows are the day's zone_counts rows: both IP versions of every zone
// that has servers (so a version that dropped to none shows as 0, not as
// a gap), and of the global and continent zones always.
func (c *Census) Rows() []store.ZoneCount {
	day := c.At.UTC().Format("2006-01-02")
	zones := map[string]bool{Global: true}
	for _, z := range record.Continents {
		zones[z] = true
	}
	for k := range c.zones {
		zones[k.Zone] = true
	}
	var rows []store.ZoneCount
	for z := range zones {
		for _, v := range []int{4, 6} {
			st := c.zones[Key{z, v}]
			rows = append(rows, store.ZoneCount{Zone: z, IPVersion: v, Day: day, TS: c.At,
				Registered: st.Registered, Active: st.Active, Netspeed: st.Weight})
		}
	}
	return rows
}

// Save builds the census at now and stores it as the day's rows.
func Save(ctx context.Context, st *store.Store, cfg score.Config, now time.Time) (*Census, error) {
	c, err := Build(ctx, st, cfg, now)
	if err != nil {
		return nil, err
	}
	rows := c.Rows()
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.SaveZoneCounts(ctx, rows) }); err != nil {
		return nil, fmt.Errorf("census: save zone counts: %w", err)
	}
	return c, nil
}

// Daily is the leader's zone counts job: Save now and every `every` (a
// later run on the same day replaces that day's rows).
func Daily(st *store.Store, cfg score.Config, every time.Duration, now func() time.Time, log *slog.Logger) leader.Job {
	if now == nil {
		now = time.Now
	}
	return leader.Every(every, "zone counts", log, func(ctx context.Context) error {
		_, err := Save(ctx, st, cfg, now())
		return err
	})
}
