package ntppool

import (
	"net/netip"

	"github.com/miekg/dns"
)

// requestECS returns the query's EDNS Client Subnet option, if any.
func requestECS(r *dns.Msg) *dns.EDNS0_SUBNET {
	opt := r.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			return e
		}
	}
	return nil
}

// ecsAddr returns the client subnet's address masked to its source prefix,
// when the option carries one that may be located: global unicast and not
// private (RFC 7871 section 7.1.2 leaves private subnets to the resolver).
func ecsAddr(e *dns.EDNS0_SUBNET) (netip.Addr, bool) {
	if e == nil || e.SourceNetmask == 0 {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(e.Address)
	if !ok {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if e.Family == 1 && !a.Is4() || e.Family == 2 && !a.Is6() {
		return netip.Addr{}, false
	}
	pfx, err := a.Prefix(int(e.SourceNetmask))
	if err != nil {
		return netip.Addr{}, false
	}
	a = pfx.Addr()
	return a, locatable(a)
}

// locatable reports whether a GeoIP lookup of a can mean anything.
func locatable(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate()
}

// setReplyECS puts an OPT on the reply that echoes the query's client subnet
// with scope, as RFC 7871 section 7.2.1 asks. The scope is never longer than
// the source prefix. CoreDNS's ScrubWriter keeps an OPT the reply already has
// and fixes its size and DO bit from the query.
//
// The option goes out as an EDNS0_LOCAL holding the encoded subnet option:
// on the wire it is the same bytes, but miekg/dns packs an EDNS0_SUBNET
// with four allocations, and twice per reply (once to measure it).
func setReplyECS(m, r *dns.Msg, e *dns.EDNS0_SUBNET, scope uint8) {
	ro := new(replyOPT) // one allocation for all of the OPT
	ro.opt.Hdr = dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}
	if q := r.IsEdns0(); q != nil {
		ro.opt.SetUDPSize(q.UDPSize())
		ro.opt.SetDo(q.Do())
	}
	ro.ecs = dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: encodeSubnet(ro.data[:0], e, min(scope, e.SourceNetmask))}
	ro.opts[0] = &ro.ecs
	ro.opt.Option = ro.opts[:]
	if len(m.Extra) == 0 {
		ro.extra[0] = &ro.opt
		m.Extra = ro.extra[:]
		return
	}
	m.Extra = append(m.Extra, &ro.opt)
}

type replyOPT struct {
	opt   dns.OPT
	ecs   dns.EDNS0_LOCAL
	opts  [1]dns.EDNS0
	extra [1]dns.RR
	data  [4 + 16]byte
}

// encodeSubnet appends the RFC 7871 option data of e with scope: family,
// source prefix, scope prefix, and the address cut to the source prefix.
func encodeSubnet(b []byte, e *dns.EDNS0_SUBNET, scope uint8) []byte {
	b = append(b, byte(e.Family>>8), byte(e.Family), e.SourceNetmask, scope)
	addr := e.Address
	if e.Family == 1 {
		addr = addr.To4()
	}
	n := (int(e.SourceNetmask) + 7) / 8
	if n > len(addr) {
		n = len(addr)
	}
	start := len(b)
	b = append(b, addr[:n]...)
	if rem := e.SourceNetmask % 8; rem != 0 && n > 0 && int(e.SourceNetmask)/8 < len(addr) {
		b[start+n-1] &= byte(0xff << (8 - rem))
	}
	return b
}
