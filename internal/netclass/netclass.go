// Package netclass tells whether an address may be an NTP pool server or a
// probe target: public global unicast, and not in any IANA special-purpose
// block. It imports only the standard library.
package netclass

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrNotPublic is wrapped by every refusal of Check.
var ErrNotPublic = errors.New("netclass: not a public unicast address")

// special lists IANA special-purpose blocks that netip's predicates do not
// cover, with the words a user sees when an address falls in one.
var special = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" (0.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, 100.64.0.0/10)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (192.0.2.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (203.0.113.0/24)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 (64:ff9b::/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64 (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (100::/64)"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (2001::/23)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	{netip.MustParsePrefix("2002::/16"), "6to4 (2002::/16)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (3fff::/20)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (5f00::/16)"},
}

// Check returns nil when a is public global unicast, or an error wrapping
// ErrNotPublic that says which kind of address it is. a is unmapped first, so
// ::ffff:10.0.0.1 is judged as 10.0.0.1.
func Check(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrNotPublic)
	}
	a = a.Unmap()
	what := ""
	switch {
	case a.IsUnspecified():
		what = "unspecified"
	case a.IsLoopback():
		what = "loopback"
	case a.IsMulticast():
		what = "multicast"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		what = "link-local"
	case a.IsPrivate():
		what = "private"
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		what = "broadcast"
	case !a.IsGlobalUnicast():
		what = "not global unicast"
	}
	if what == "" {
		for _, s := range special {
			if s.prefix.Contains(a) {
				what = s.what
				break
			}
		}
	}
	if what != "" {
		return fmt.Errorf("%w: %s is %s", ErrNotPublic, a, what)
	}
	return nil
}
