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
// "uk") and the prefix length of the database network that holds a. cc is
// "" when that network has no country or the database has no network for
// a; bits is then the length of the network (or the gap in the database)
// that holds a, 0 when unknown.
func (g *geoDB) country(a netip.Addr) (cc string, bits int) {
	res := g.mm.Lookup(a)
	if res.Err() != nil {
		return "", 0
	}
	bits = res.Prefix().Bits()
	if !res.Found() {
		return "", max(bits, 0)
	}
	off := res.Offset()
	if v, ok := g.codes.Load(off); ok {
		return v.(string), bits
	}
	var iso string
	if err := res.DecodePath(&iso, "country", "iso_code"); err != nil {
		return "", bits
	}
	cc = record.CountryZone(iso)
	g.codes.Store(off, cc)
	return cc, bits
}

// location is where the targeting placed a client.
type location struct {
	country *zone      // the client's country zone; nil when unknown
	addr    netip.Addr // the address that was located
	ecs     bool       // addr came from the client subnet option
	bits    int        // prefix length of the GeoIP network holding addr
	scope   uint8      // ECS scope for a reply that depends on the location
}

// locate finds the client's country: from the client subnet when it can be
// located, else from the source address.
//
// The scope it returns is for answers that depend on the location (RFC
// 7871 section 7.2.1): the part of the client subnet the answer was decided
// on. A located subnet gives its GeoIP network. A subnet that cannot be
// located leaves the answer to the source address, which the subnet does
// not describe, so the scope must still not be 0 (section 7.3.1 reads 0 as
// "the same for every client"): it is the special-purpose block or the
// GeoIP network (or gap) holding the subnet, where every subnet falls back
// the same way, or else the whole source prefix. The scope is never longer
// than the source prefix, and 0 only when that is 0 or there is no GeoIP
// database (then every client gets the global set).
func (p *NTPPool) locate(ix *index, src netip.Addr, ecs *dns.EDNS0_SUBNET) location {
	if p.geo == nil {
		return location{}
	}
	var loc location
	if ecs != nil && ecs.SourceNetmask > 0 {
		source := int(ecs.SourceNetmask)
		scope := source
		if pfx, ok := ecsPrefix(ecs); ok {
			a := pfx.Addr()
			if b, special := specialBlock(a); special {
				scope = b.Bits()
			} else if z, bits := p.countryZone(ix, a); z != nil {
				return location{country: z, addr: a, ecs: true, bits: bits, scope: uint8(min(bits, source))}
			} else if bits > 0 {
				scope = bits
			}
		}
		loc.scope = uint8(min(scope, source))
	}
	if locatable(src) {
		if z, bits := p.countryZone(ix, src); z != nil {
			loc.country, loc.addr, loc.bits = z, src, bits
		}
	}
	return loc
}

// countryZone looks a up and returns its country's zone in ix and the
// prefix length of the GeoIP network holding a.
func (p *NTPPool) countryZone(ix *index, a netip.Addr) (*zone, int) {
	cc, bits := p.geo.country(a)
	if cc == "" {
		return nil, bits
	}
	return ix.zones[cc], bits
}
