package netclass

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want string // "" means public
	}{
		{"8.8.8.8", ""},
		{"81.2.69.160", ""},
		{"2a02:ff80::1", ""},
		{"::ffff:8.8.8.8", ""},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:10.0.0.1", "private"},
		{"fd00::1", "private"},
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"100.64.1.1", "CGNAT"},
		{"192.0.2.1", "documentation"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.9", "documentation"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"198.18.0.1", "benchmarking"},
		{"2002::1", "6to4"},
		{"64:ff9b::1.2.3.4", "NAT64"},
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
