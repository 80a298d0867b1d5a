// Package netclass tells whether an address may be an NTP pool server or a
// probe target: global unicast (IPv6 only within 2000::/3), and not in any
// block of the IANA IPv4 and IPv6 special-purpose address registries. It
// imports only the standard library.
package netclass

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrNotPublic is wrapped by every refusal of Check.
var ErrNotPublic = errors.New("netclass: not a public unicast address")

// globalUnicast6 is the only IPv6 block IANA allocates for global unicast;
// everything outside it (::/8 with its IPv4-compatible and IPv4-translated
// forms, site-local fec0::/10, unassigned 4000::/3, ...) is refused.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// special lists the IANA special-purpose blocks (IPv4 and IPv6 registries,
// https://www.iana.org/assignments/iana-ipv4-special-registry and
// iana-ipv6-special-registry) with the words a user sees when an address
// falls in one. Blocks the registries mark "globally reachable" (AS112,
// AMT, anycast relays) are refused too: they are infrastructure, never a
// pool server.
var special = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" (0.0.0.0/8)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (10.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, 100.64.0.0/10)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (169.254.0.0/16)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (192.0.2.0/24)"},
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112 (192.31.196.0/24)"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT relay anycast (192.52.193.0/24)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "deprecated 6to4 relay anycast (192.88.99.0/24)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (192.168.0.0/16)"},
	{netip.MustParsePrefix("192.175.48.0/24"), "AS112 direct delegation (192.175.48.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (203.0.113.0/24)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (224.0.0.0/4)"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast (255.255.255.255)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	{netip.MustParsePrefix("::/128"), "unspecified (::)"},
	{netip.MustParsePrefix("::1/128"), "loopback (::1)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated (::ffff:0:0:0/96)"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (::/96)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 (64:ff9b::/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64 (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (100::/64)"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "dummy prefix (100:0:0:1::/64)"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (2001::/23)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	{netip.MustParsePrefix("2002::/16"), "6to4 (2002::/16)"},
	{netip.MustParsePrefix("2620:4f:8000::/48"), "AS112 direct delegation (2620:4f:8000::/48)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (3fff::/20)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (5f00::/16)"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local, fc00::/7)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local (fe80::/10)"},
	{netip.MustParsePrefix("fec0::/10"), "deprecated site-local (fec0::/10)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast (ff00::/8)"},
}

// Check returns nil when a is public global unicast, or an error wrapping
// ErrNotPublic that says which kind of address it is. An IPv4-mapped
// address (::ffff:a.b.c.d) is judged as the IPv4 address it carries; every
// other IPv4-embedding IPv6 form (::a.b.c.d, ::ffff:0:a.b.c.d) is refused,
// since it lies outside 2000::/3.
func Check(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrNotPublic)
	}
	a = a.Unmap().WithZone("")
	for _, s := range special {
		if s.prefix.Contains(a) {
			return fmt.Errorf("%w: %s is %s", ErrNotPublic, a, s.what)
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return fmt.Errorf("%w: %s is not global unicast (IPv6 outside 2000::/3)", ErrNotPublic, a)
	}
	return nil
}
