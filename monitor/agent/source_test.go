package agent

import (
	"net/netip"
	"testing"
)

// The agent probes from the registered address of a family when this host
// has it (not behind NAT), and a local setting wins.
func TestSourceAddr(t *testing.T) {
	lo, far, local := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("127.0.0.9")
	for _, c := range []struct{ local, registered, want netip.Addr }{
		{netip.Addr{}, lo, lo},
		{netip.Addr{}, netip.MustParseAddr("::1"), netip.MustParseAddr("::1")},
		{netip.Addr{}, far, netip.Addr{}}, // behind NAT: the system's choice
		{netip.Addr{}, netip.Addr{}, netip.Addr{}},
		{local, far, local},
	} {
		if got := sourceAddr(c.local, c.registered); got != c.want {
			t.Errorf("sourceAddr(%v, %v) = %v, want %v", c.local, c.registered, got, c.want)
		}
	}
}
