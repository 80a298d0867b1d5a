package ntppool

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/miekg/dns"
	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/ntppool-ng/ntppool/record"
)

// geoDB finds the country of an address in a MaxMind Country or City
// database.
//
// geoip2 opens and checks the database; lookups then go to the maxminddb
// reader under it: geoip2's Country decodes every name in every language
// into a new struct on each call, while all we need is the country code.
// Many networks share one data record, so the code is decoded once per
// record offset and cached.
type geoDB struct {
	r     *geoip2.Reader
	mm    *maxminddb.Reader
	codes sync.Map // data record offset (uintptr) -> pool zone label (string)
}

// openGeo reads path and checks that it can answer country lookups, so a
// wrong file fails at setup, not at query time. The database is read into
// memory rather than mapped: nothing then has to be unmapped while a query
// of a reloading server may still read it.
func openGeo(path string) (*geoDB, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	r, err := geoip2.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if _, err := r.Country(netip.IPv4Unspecified()); err != nil {
		r.Close()
		if _, ok := errors.AsType[geoip2.InvalidMethodError](err); ok {
			return nil, fmt.Errorf("not a Country or City database: %w", err)
		}
		return nil, fmt.Errorf("probe: %w", err)
	}
	mm, err := maxminddb.OpenBytes(b)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("open: %w", err)
	}
	return &geoDB{r: r, mm: mm}, nil
}

// Close releases the database.
func (g *geoDB) Close() error {
	g.mm.Close()
	return g.r.Close()
}

// country returns the pool zone label of a's country (lower case, "gb" as
// "uk") and the prefix length of the database network that holds a.
func (g *geoDB) country(a netip.Addr) (cc string, bits int, ok bool) {
	res := g.mm.Lookup(a)
	if !res.Found() {
		return "", 0, false
	}
	off := res.Offset()
	if v, ok := g.codes.Load(off); ok {
		cc = v.(string)
	} else {
		var iso string
		if err := res.DecodePath(&iso, "country", "iso_code"); err != nil {
			return "", 0, false
		}
		cc = record.CountryZone(iso)
		g.codes.Store(off, cc)
	}
	if cc == "" {
		return "", 0, false
	}
	return cc, res.Prefix().Bits(), true
}

// location is where the targeting placed a client.
type location struct {
	country *zone      // the client's country zone; nil when unknown
	addr    netip.Addr // the address that was located
	ecs     bool       // addr came from the client subnet option
	bits    int        // prefix length of the GeoIP network holding addr
	scope   uint8      // ECS scope for the reply
}

// locate finds the client's country: from the client subnet when it is
// usable, else (or when the subnet has no country) from the source address.
func (p *NTPPool) locate(ix *index, src netip.Addr, ecs *dns.EDNS0_SUBNET) location {
	if p.geo == nil {
		return location{}
	}
	if a, ok := ecsAddr(ecs); ok {
		if z, bits := p.countryZone(ix, a); z != nil {
			return location{country: z, addr: a, ecs: true, bits: bits, scope: uint8(min(bits, int(ecs.SourceNetmask)))}
		}
	}
	if locatable(src) {
		if z, bits := p.countryZone(ix, src); z != nil {
			return location{country: z, addr: src, bits: bits}
		}
	}
	return location{}
}

// countryZone looks a up and returns its country's zone in ix.
func (p *NTPPool) countryZone(ix *index, a netip.Addr) (*zone, int) {
	cc, bits, ok := p.geo.country(a)
	if !ok {
		return nil, 0
	}
	return ix.zones[cc], bits
}
