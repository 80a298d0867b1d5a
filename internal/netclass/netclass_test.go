package netclass

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestCheck walks the IANA IPv4 and IPv6 special-purpose address
// registries, one address per block, plus public addresses and the
// IPv4-embedding IPv6 forms.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want string // "" means public
	}{
		// Public.
		{"8.8.8.8", ""},
		{"81.2.69.160", ""},
		{"1.1.1.1", ""},
		{"2a02:ff80::1", ""},
		{"2600::1", ""},
		{"::ffff:8.8.8.8", ""},

		// IANA IPv4 special-purpose registry.
		{"0.0.0.0", "this network"},
		{"0.1.2.3", "this network"},
		{"10.1.2.3", "private"},
		{"100.64.1.1", "CGNAT"},
		{"127.0.0.1", "loopback"},
		{"127.255.0.1", "loopback"},
		{"169.254.1.1", "link-local"},
		{"172.16.0.1", "private"},
		{"172.31.255.1", "private"},
		{"192.0.0.1", "IETF protocol assignments"},
		{"192.0.0.9", "IETF protocol assignments"},  // PCP anycast
		{"192.0.0.10", "IETF protocol assignments"}, // TURN anycast
		{"192.0.0.170", "IETF protocol assignments"},
		{"192.0.2.1", "documentation"},
		{"192.31.196.1", "AS112"},
		{"192.52.193.1", "AMT"},
		{"192.88.99.1", "6to4 relay"},
		{"192.168.1.1", "private"},
		{"192.175.48.1", "AS112"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.1", "benchmarking"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.9", "documentation"},
		{"224.0.0.1", "multicast"},
		{"239.1.1.1", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "broadcast"},

		// IANA IPv6 special-purpose registry.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::ffff:10.0.0.1", "private"}, // mapped: judged as IPv4
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:0:10.0.0.1", "IPv4-translated"},
		{"::ffff:0:8.8.8.8", "IPv4-translated"},
		{"::10.0.0.1", "IPv4-compatible"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"64:ff9b::1.2.3.4", "NAT64"},
		{"64:ff9b:1::1", "local NAT64"},
		{"100::1", "discard-only"},
		{"100:0:0:1::1", "dummy prefix"},
		{"2001::1", "IETF protocol assignments"}, // Teredo
		{"2001:1::1", "IETF protocol assignments"},
		{"2001:2::1", "IETF protocol assignments"},     // benchmarking
		{"2001:3::1", "IETF protocol assignments"},     // AMT
		{"2001:4:112::1", "IETF protocol assignments"}, // AS112-v6
		{"2001:10::1", "IETF protocol assignments"},    // ORCHID
		{"2001:20::1", "IETF protocol assignments"},    // ORCHIDv2
		{"2001:30::1", "IETF protocol assignments"},    // drone remote ID
		{"2001:db8::1", "documentation"},
		{"2002::1", "6to4"},
		{"2620:4f:8000::1", "AS112"},
		{"3fff::1", "documentation"},
		{"5f00::1", "segment routing"},
		{"fc00::1", "private"},
		{"fd00::1", "private"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"ff02::1", "multicast"},
		{"ff0e::101", "multicast"},

		// Outside 2000::/3: not global unicast.
		{"fec0::1", "site-local"},
		{"4000::1", "outside 2000::/3"},
		{"1::1", "outside 2000::/3"},
		{"8000::1", "outside 2000::/3"},
		{"e000::1", "outside 2000::/3"},
	} {
		err := Check(netip.MustParseAddr(tc.ip))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%s) = %v, want nil", tc.ip, err)
		case tc.want != "" && (!errors.Is(err, ErrNotPublic) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Check(%s) = %v, want an error mentioning %q", tc.ip, err, tc.want)
		}
	}
	if err := Check(netip.Addr{}); !errors.Is(err, ErrNotPublic) {
		t.Errorf("zero Addr: %v", err)
	}
}
