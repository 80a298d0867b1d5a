package probe

import (
	"context"
	"net/netip"
	"testing"

	"github.com/ntppool-ng/ntppool/internal/ntpserver"
)

// Each family is probed from its own source address when one is given; a
// source the host does not have makes the probe fail (so it is used).
func TestProbeFromSourceAddress(t *testing.T) {
	v4, v6 := netip.MustParseAddr("127.0.0.52"), netip.MustParseAddr("::1")
	rs, err := ntpserver.ListenSamePort([]netip.Addr{v4, v6}, []ntpserver.Config{{}, {}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		t.Cleanup(func() { r.Close() })
	}
	port := rs[0].Addr().Port()
	probeWith := func(src4, src6 netip.Addr, ip netip.Addr) Kind {
		o := fast
		o.Samples, o.Port, o.Source4, o.Source6 = 1, port, src4, src6
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		_, kind, err := p.Probe(context.Background(), ip)
		if err != nil {
			t.Fatal(err)
		}
		return kind
	}
	if k := probeWith(netip.MustParseAddr("127.0.0.53"), v6, v4); k != KindOK {
		t.Errorf("IPv4 from 127.0.0.53: %s", k)
	}
	if k := probeWith(netip.MustParseAddr("127.0.0.53"), v6, v6); k != KindOK {
		t.Errorf("IPv6 from ::1: %s", k)
	}
	// 192.0.2.1 and 2001:db8::1 are not this host's: the probe cannot send.
	if k := probeWith(netip.MustParseAddr("192.0.2.1"), v6, v4); k == KindOK {
		t.Error("IPv4 probe ignored its source address")
	}
	if k := probeWith(netip.Addr{}, netip.MustParseAddr("2001:db8::1"), v6); k == KindOK {
		t.Error("IPv6 probe ignored its source address")
	}
	for _, o := range []Options{{Samples: 1, Timeout: 1, Source4: v6}, {Samples: 1, Timeout: 1, Source6: v4},
		{Samples: 1, Timeout: 1, Source6: netip.MustParseAddr("::ffff:127.0.0.1")}} {
		if _, err := New(o); err == nil {
			t.Errorf("source of the wrong family accepted: %+v", o)
		}
	}
}
