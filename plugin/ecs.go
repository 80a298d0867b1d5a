package ntppool

import (
	"encoding/binary"
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

// ecsPrefix returns the client subnet of e cut to its source prefix. ok is
// false when the address does not fit the option's family or prefix.
func ecsPrefix(e *dns.EDNS0_SUBNET) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(e.Address)
	if !ok {
		return netip.Prefix{}, false
	}
	switch e.Family {
	case 1:
		// miekg/dns hands IPv4 over in 16-byte form.
		if a = a.Unmap(); !a.Is4() {
			return netip.Prefix{}, false
		}
	case 2:
		if !a.Is6() {
			return netip.Prefix{}, false
		}
	default:
		return netip.Prefix{}, false
	}
	pfx, err := a.Prefix(int(e.SourceNetmask))
	return pfx, err == nil
}

// specialBlocks4 and specialBlocks6 are the blocks of the IANA IPv4 and
// IPv6 Special-Purpose Address Registries (RFC 6890) that are not globally
// reachable, plus multicast and the reserved ranges: no address in them can
// be located, so a GeoIP lookup is not even tried.
var specialBlocks4, specialBlocks6 = prefixes(
	"0.0.0.0/8",       // this network
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (CGNAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link local
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and the limited broadcast address
), prefixes(
	"::/128",         // unspecified
	"::1/128",        // loopback
	"::ffff:0:0/96",  // IPv4-mapped
	"64:ff9b:1::/48", // local-use IPv4/IPv6 translation
	"100::/64",       // discard-only
	"2001:2::/48",    // benchmarking
	"2001:db8::/32",  // documentation
	"3fff::/20",      // documentation
	"5f00::/16",      // segment routing SIDs
	"fc00::/7",       // unique local
	"fe80::/10",      // link local
	"ff00::/8",       // multicast
)

// block is a special-purpose prefix as masked 128-bit halves (IPv4 in the
// low bits of lo), so a check is a few integer operations rather than
// netip.Prefix.Contains.
type block struct {
	hi, lo, mhi, mlo uint64
	pfx              netip.Prefix
}

func prefixes(s ...string) []block {
	out := make([]block, len(s))
	for i, p := range s {
		pfx := netip.MustParsePrefix(p)
		bits := pfx.Bits()
		if pfx.Addr().Is4() {
			bits += 96
		}
		mhi, mlo := ^uint64(0), ^uint64(0)
		if bits < 64 {
			mhi, mlo = ^(^uint64(0) >> bits), 0
		} else if bits < 128 {
			mlo = ^(^uint64(0) >> (bits - 64))
		}
		hi, lo := halves(pfx.Addr())
		out[i] = block{hi: hi & mhi, lo: lo & mlo, mhi: mhi, mlo: mlo, pfx: pfx}
	}
	return out
}

// halves returns a as two 64-bit numbers; IPv4 comes as 0 and its 32 bits.
func halves(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		b := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// specialBlock returns the special-purpose block holding a, if any.
func specialBlock(a netip.Addr) (netip.Prefix, bool) {
	blocks := specialBlocks6
	if a.Is4() {
		blocks = specialBlocks4
	}
	hi, lo := halves(a)
	for i := range blocks {
		b := &blocks[i]
		if hi&b.mhi == b.hi && lo&b.mlo == b.lo {
			return b.pfx, true
		}
	}
	return netip.Prefix{}, false
}

// locatable reports whether a GeoIP lookup of a can mean anything.
func locatable(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	_, special := specialBlock(a)
	return !special
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
