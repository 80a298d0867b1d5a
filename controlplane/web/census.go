package web

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// globalZone is the label of the global zone on pages and in zone_counts.
const globalZone = "@"

// zoneKey is one zone and IP version.
type zoneKey struct {
	Zone string
	IPv  int
}

// zoneStat counts one zone and IP version.
type zoneStat struct {
	Registered int
	Active     int
	Weight     int64 // sum of the active servers' published weights
}

// census is a snapshot of every zone's counts, built from all live servers
// with the publisher's rule (score.Config) for "active". Built aside and
// swapped whole, so readers take no lock.
type census struct {
	at    time.Time
	zones map[zoneKey]zoneStat
	stale atomic.Bool // set by invalidate
}

func (c *census) get(zone string, ipv int) zoneStat { return c.zones[zoneKey{zone, ipv}] }

// zonesOf returns the zones a server with country cc is in: its country,
// that country's continent and the global zone.
func zonesOf(cc string) []string {
	z := []string{globalZone}
	if cz := record.CountryZone(cc); cz != "" {
		if cont := record.Continent(cz); cont != "" {
			z = append(z, cont)
		}
		z = append(z, cz)
	}
	return z
}

func ipVersion(s store.Server) int {
	if s.IP.Unmap().Is4() {
		return 4
	}
	return 6
}

func scoreServer(s store.Server) score.Server {
	return score.Server{Score: s.Score, NetSpeed: s.Netspeed, Deletion: s.DeletionOn}
}

// buildCensus counts every zone now.
func (s *Server) buildCensus(ctx context.Context) (*census, error) {
	srvs, err := s.st.Servers(ctx)
	if err != nil {
		return nil, fmt.Errorf("web: census: %w", err)
	}
	now := s.now()
	c := &census{at: now, zones: make(map[zoneKey]zoneStat)}
	for _, srv := range srvs {
		if !srv.InPool {
			continue
		}
		v := ipVersion(srv)
		w := s.cfg.Score.Weight(now, scoreServer(srv))
		for _, z := range zonesOf(srv.Zone()) {
			k := zoneKey{z, v}
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

// census returns the cached counts. The first call builds them while the
// request waits; afterwards counts older than CountsTTL (or invalidated)
// are served once more while one background rebuild runs, so a visited
// page never waits for the scan of every server.
func (s *Server) census(ctx context.Context) (*census, error) {
	c := s.counts.Load()
	// Counts much older than CountsTTL (a site nobody visited for a while)
	// are rebuilt while the request waits, as at the start.
	if c == nil || s.now().Sub(c.at) >= 10*s.cfg.CountsTTL {
		s.countMu.Lock()
		defer s.countMu.Unlock()
		if c = s.counts.Load(); c != nil && s.now().Sub(c.at) < 10*s.cfg.CountsTTL {
			return c, nil
		}
		c, err := s.buildCensus(ctx)
		if err != nil {
			return nil, err
		}
		s.counts.Store(c)
		return c, nil
	}
	if c.stale.Load() || s.now().Sub(c.at) >= s.cfg.CountsTTL {
		s.refreshCensus()
	}
	return c, nil
}

// refreshCensus rebuilds the counts in the background, once at a time.
func (s *Server) refreshCensus() {
	if !s.rebuilding.CompareAndSwap(false, true) {
		return
	}
	s.bgMu.Lock()
	s.bg.Add(1)
	s.bgMu.Unlock()
	go func() {
		defer s.bg.Done()
		defer s.rebuilding.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := s.buildCensus(ctx)
		if err != nil {
			s.log.Error("web: rebuild counts", "err", err)
			return
		}
		s.counts.Store(c)
	}()
}

// invalidate marks the counts stale after the site changed a server, so
// they are rebuilt at once, and tells the publisher.
func (s *Server) invalidate() {
	if c := s.counts.Load(); c != nil {
		c.stale.Store(true)
	}
	s.refreshCensus()
	s.changed()
}

// saveZoneCounts stores today's rows for every zone that has servers, and
// for the global and continent zones always.
func (s *Server) saveZoneCounts(ctx context.Context) error {
	c, err := s.buildCensus(ctx)
	if err != nil {
		return err
	}
	s.counts.Store(c)
	day := c.at.UTC().Format("2006-01-02")
	var rows []store.ZoneCount
	add := func(k zoneKey, st zoneStat) {
		rows = append(rows, store.ZoneCount{Zone: k.Zone, IPVersion: k.IPv, Day: day, TS: c.at,
			Registered: st.Registered, Active: st.Active, Netspeed: st.Weight})
	}
	// Both IP versions of every zone that has servers, so a version that
	// dropped to none shows as 0, not as a gap.
	zones := map[string]bool{globalZone: true}
	for _, z := range record.Continents {
		zones[z] = true
	}
	for k := range c.zones {
		zones[k.Zone] = true
	}
	for z := range zones {
		for _, v := range []int{4, 6} {
			add(zoneKey{z, v}, c.zones[zoneKey{z, v}])
		}
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.SaveZoneCounts(ctx, rows) })
}

// validZone reports whether name is a zone page: the global zone, a
// continent or a country.
func validZone(name string) bool {
	return name == globalZone || record.IsContinent(name) || record.ValidCountry(name)
}

// canonicalZone is the zone label as the pool writes it: lower case, "uk"
// for "gb".
func canonicalZone(z string) string {
	z = strings.ToLower(z)
	if cz := record.CountryZone(z); cz != "" {
		return cz
	}
	return z
}

// zoneTitle names a zone for people.
func zoneTitle(z string) string {
	switch {
	case z == globalZone:
		return "Global"
	case record.IsContinent(z):
		words := strings.Split(z, "-")
		for i, w := range words {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		return strings.Join(words, " ")
	}
	return strings.ToUpper(z)
}

// dnsNames are the names to configure for a zone, e.g. 0.de.pool.ntp.test.
func (s *Server) dnsNames(zone string) []string {
	base := s.cfg.PoolZone
	if zone != globalZone {
		base = zone + "." + base
	}
	return []string{"0." + base, "1." + base, "2." + base, "3." + base}
}
