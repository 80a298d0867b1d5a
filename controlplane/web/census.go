package web

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/record"
)

// counts is the cached census of the pages; stale is set by invalidate.
type counts struct {
	*census.Census
	stale atomic.Bool
}

// buildCensus counts every zone now.
func (s *Server) buildCensus(ctx context.Context) (*counts, error) {
	c, err := census.Build(ctx, s.st, s.cfg.Score, s.now())
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return &counts{Census: c}, nil
}

// census returns the cached counts. The first call builds them while the
// request waits; afterwards counts older than CountsTTL (or invalidated)
// are served once more while one background rebuild runs, so a visited
// page never waits for the scan of every server.
func (s *Server) census(ctx context.Context) (*counts, error) {
	c := s.counts.Load()
	// Counts much older than CountsTTL (a site nobody visited for a while)
	// are rebuilt while the request waits, as at the start.
	if c == nil || s.now().Sub(c.At) >= 10*s.cfg.CountsTTL {
		s.countMu.Lock()
		defer s.countMu.Unlock()
		if c = s.counts.Load(); c != nil && s.now().Sub(c.At) < 10*s.cfg.CountsTTL {
			return c, nil
		}
		c, err := s.buildCensus(ctx)
		if err != nil {
			return nil, err
		}
		s.counts.Store(c)
		return c, nil
	}
	if c.stale.Load() || s.now().Sub(c.At) >= s.cfg.CountsTTL {
		s.refreshCensus()
	}
	return c, nil
}

// refreshCensus rebuilds the counts in the background, once at a time.
func (s *Server) refreshCensus() {
	if !s.rebuilding.CompareAndSwap(false, true) {
		return
	}
	s.background(func() {
		defer s.rebuilding.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := s.buildCensus(ctx)
		if err != nil {
			s.log.Error("web: rebuild counts", "err", err)
			return
		}
		s.counts.Store(c)
	})
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

// validZone reports whether name is a zone page: the global zone, a
// continent or a country.
func validZone(name string) bool {
	return name == census.Global || record.IsContinent(name) || record.ValidCountry(name)
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
	case z == census.Global:
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
	if zone != census.Global {
		base = zone + "." + base
	}
	return []string{"0." + base, "1." + base, "2." + base, "3." + base}
}
