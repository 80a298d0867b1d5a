package ntppool

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/miekg/dns"
)

// errNotReady is returned (and turns into SERVFAIL) until the first index
// has been loaded from etcd.
var errNotReady = errors.New("ntppool: no data loaded from etcd yet")

// SOA and NS values from POOL.md.
const (
	soaRefresh = 5400
	soaRetry   = 5400
	soaExpire  = 1209600
	soaMinTTL  = 3600
	nsTTL      = 86400
	debugTTL   = 1
)

// ServeDNS implements plugin.Handler.
func (p *NTPPool) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) == 0 {
		return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
	}
	q := r.Question[0]
	origin, labels, ok := splitOrigin(q.Name, p.cfg.Origins)
	if !ok || q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		if p.Next == nil {
			return dns.RcodeRefused, nil
		}
		return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		// The zone has no fixed content to transfer: its answers are drawn
		// per query. REFUSED is the answer to a transfer a server does not
		// allow (RFC 5936); CoreDNS writes it.
		return dns.RcodeRefused, nil
	}
	ix := p.idx.Load()
	if ix == nil {
		return dns.RcodeServerFailure, errNotReady
	}

	name := ix.classify(labels)
	var host []netip.Addr // addresses of an in-zone name server, when q names one
	var ent bool          // q is an empty non-terminal above such a name
	if name.kind == nameNX {
		host, ent = p.nsHost(q.Name)
		if host == nil && !ent && p.cfg.Fall.Through(q.Name) {
			return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
		}
	}

	rp := newReply(w, r)
	m := &rp.msg
	m.Authoritative = true
	ecs := requestECS(r)
	var scope uint8

	switch {
	case host != nil:
		m.Answer = hostRecords(q.Name, q.Qtype, host)
	case ent:
		// NODATA: the name exists because a name server's name is below it.
	case name.kind == nameNX:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeANY:
		m.Answer = []dns.RR{&dns.HINFO{Hdr: hdr(q.Name, dns.TypeHINFO, 8482), Cpu: "RFC8482"}}
	case name.kind == nameCountry:
		if q.Qtype == dns.TypeTXT {
			m.Answer = []dns.RR{p.debugTXT(ix, q.Name, w, ecs)}
			// The answer quotes the client subnet itself.
			if ecs != nil {
				scope = ecs.SourceNetmask
			}
		}
	case q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA:
		f := fam4
		if q.Qtype == dns.TypeAAAA {
			f = fam6
		}
		var loc location
		if name.zone == nil {
			loc = p.locate(ix, clientAddr(w), ecs)
		}
		m.Answer = p.addresses(ix, name, f, &loc, q.Name, metrics.WithServer(ctx), rp)
		if len(m.Answer) > 0 {
			// An empty answer means even the global set is empty: the
			// same for every client.
			scope = loc.scope
		}
	case q.Qtype == dns.TypeMX:
		m.Answer = []dns.RR{&dns.MX{Hdr: hdr(q.Name, dns.TypeMX, p.cfg.TTL), Mx: "."}}
	case q.Qtype == dns.TypeSOA && name.apex:
		m.Answer = []dns.RR{p.soa(ix, origin)}
	case q.Qtype == dns.TypeNS && name.apex:
		m.Answer = p.nsRecords(origin)
		m.Extra = p.glue()
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{p.soa(ix, origin)}
	}
	if ecs != nil {
		setReplyECS(m, r, ecs, scope)
	}
	if writeReply(w, r, m) {
		rp.free()
	}
	return dns.RcodeSuccess, nil
}

// addresses draws the A or AAAA records of a pool name.
func (p *NTPPool) addresses(ix *index, name parsedName, f int, loc *location, qname, server string, rp *reply) []dns.RR {
	var chain [3]*zone
	if name.zone != nil {
		chain[0] = name.zone
		if p.cfg.Fill {
			chain[1] = name.zone.parent
			if chain[1] != nil {
				chain[2] = chain[1].parent
			}
		}
	} else {
		// Targeted names try the client's country, its continent, then global.
		i := 0
		if c := loc.country; c != nil {
			chain[i], chain[i+1] = c, c.parent
			i += 2
		}
		chain[i] = ix.global
	}

	var pk picked
	k := p.cfg.Records
	var from *zone
	for _, z := range chain {
		if z == nil {
			continue
		}
		s := ix.setFor(z, f, name.num, p.cfg.AAAAAll)
		if s == nil || s.len() == 0 {
			continue
		}
		if from == nil {
			from = z
		}
		s.draw(p.rng, k, &pk)
		if pk.n >= k || !p.cfg.Fill {
			break
		}
	}
	if from == nil {
		return nil
	}
	level := levelNone
	if name.zone == nil {
		switch from.kind {
		case kindContinent:
			level = levelContinent
		case kindGlobal:
			level = levelGlobal
		}
	}
	from.stats.inc(server, from.name(), level)
	return rp.records(&pk, f, qname, p.cfg.TTL)
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// soa is the generated SOA of origin; its serial follows the index.
func (p *NTPPool) soa(ix *index, origin string) dns.RR {
	ttl := min(10*p.cfg.TTL, soaMinTTL)
	return &dns.SOA{
		Hdr:     hdr(origin, dns.TypeSOA, ttl),
		Ns:      p.nsNames(origin)[0],
		Mbox:    p.contact(origin),
		Serial:  ix.serial,
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  soaMinTTL,
	}
}

func (p *NTPPool) nsNames(origin string) []string {
	if len(p.cfg.NS) > 0 {
		return p.cfg.NS
	}
	return []string{dns.Fqdn("ns1." + origin)}
}

func (p *NTPPool) contact(origin string) string {
	if p.cfg.Contact != "" {
		return p.cfg.Contact
	}
	return dns.Fqdn("hostmaster." + origin)
}

func (p *NTPPool) nsRecords(origin string) []dns.RR {
	names := p.nsNames(origin)
	rrs := make([]dns.RR, len(names))
	for i, n := range names {
		rrs[i] = &dns.NS{Hdr: hdr(origin, dns.TypeNS, nsTTL), Ns: n}
	}
	return rrs
}

// glue is the A and AAAA records of the in-zone name servers, in the order
// of the ns lines, for the additional section of an NS answer.
func (p *NTPPool) glue() []dns.RR {
	var rrs []dns.RR
	for _, n := range p.cfg.NS {
		for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			rrs = append(rrs, hostRecords(n, t, p.cfg.NSAddrs[n])...)
		}
	}
	return rrs
}

// nsHost returns the addresses of the in-zone name server called qname, or
// ent true when qname is a name above one (an empty non-terminal).
func (p *NTPPool) nsHost(qname string) (addrs []netip.Addr, ent bool) {
	for n, a := range p.cfg.NSAddrs {
		if strings.EqualFold(n, qname) {
			return a, false
		}
		if len(n) > len(qname) && n[len(n)-len(qname)-1] == '.' && strings.EqualFold(n[len(n)-len(qname):], qname) {
			ent = true
		}
	}
	return nil, ent
}

// hostRecords answers qtype for a name server with addresses: its A or
// AAAA records, an RFC 8482 HINFO for ANY, nothing (NODATA) otherwise.
func hostRecords(name string, qtype uint16, addrs []netip.Addr) []dns.RR {
	if qtype == dns.TypeANY {
		return []dns.RR{&dns.HINFO{Hdr: hdr(name, dns.TypeHINFO, 8482), Cpu: "RFC8482"}}
	}
	var rrs []dns.RR
	for _, a := range addrs {
		switch {
		case qtype == dns.TypeA && a.Is4():
			rrs = append(rrs, &dns.A{Hdr: hdr(name, dns.TypeA, nsTTL), A: a.AsSlice()})
		case qtype == dns.TypeAAAA && a.Is6():
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA, nsTTL), AAAA: a.AsSlice()})
		}
	}
	return rrs
}

// clientAddr is the address the query came from, unmapped.
func clientAddr(w dns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
