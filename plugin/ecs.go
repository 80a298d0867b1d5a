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
func setReplyECS(m, r *dns.Msg, e *dns.EDNS0_SUBNET, scope uint8) {
	// One allocation for the OPT, its option list and the option.
	ro := new(replyOPT)
	ro.opt.Hdr = dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}
	if q := r.IsEdns0(); q != nil {
		ro.opt.SetUDPSize(q.UDPSize())
		ro.opt.SetDo(q.Do())
	}
	ro.ecs = dns.EDNS0_SUBNET{
		Code:          dns.EDNS0SUBNET,
		Family:        e.Family,
		SourceNetmask: e.SourceNetmask,
		SourceScope:   min(scope, e.SourceNetmask),
		Address:       e.Address,
	}
	ro.opts[0] = &ro.ecs
	ro.opt.Option = ro.opts[:]
	m.Extra = append(m.Extra, &ro.opt)
}

type replyOPT struct {
	opt  dns.OPT
	ecs  dns.EDNS0_SUBNET
	opts [1]dns.EDNS0
}
