package ntppool

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// TestECSScope checks the echoed scope for every kind of client subnet and
// every kind of name (RFC 7871 sections 7.2.1 and 7.3.1): a location-
// dependent answer never has scope 0 unless the source prefix is 0, and no
// scope is longer than the source prefix; answers that are the same for
// every client have scope 0.
func TestECSScope(t *testing.T) {
	subnets := []struct {
		kind, subnet string
		scope        uint8 // of a location-dependent answer
	}{
		{"v4 located (GB /27)", "81.2.69.160/27", 27},
		{"v4 located, longer source", "81.2.69.160/32", 27},
		{"v4 located, shorter source", "81.2.69.0/24", 24},
		{"v4 located in a /20", "202.196.224.0/24", 20},
		{"v4 private 10/8", "10.1.2.0/24", 8},
		{"v4 private 172.16/12", "172.16.5.0/24", 12},
		{"v4 private 192.168/16", "192.168.1.0/24", 16},
		{"v4 loopback /32", "127.0.0.1/32", 8},
		{"v4 loopback /24", "127.0.0.0/24", 8},
		{"v4 CGNAT", "100.64.3.0/24", 10},
		{"v4 link local", "169.254.1.0/24", 16},
		{"v4 this network", "0.0.0.0/24", 8},
		{"v4 documentation", "192.0.2.0/28", 24},
		{"v4 documentation 2", "198.51.100.0/24", 24},
		{"v4 documentation 3", "203.0.113.0/24", 24},
		{"v4 benchmarking", "198.18.0.0/24", 15},
		{"v4 multicast", "224.1.0.0/16", 4},
		{"v4 reserved", "250.0.0.0/24", 4},
		{"v4 block longer than source", "192.0.0.0/16", 16},
		{"v4 global, not in the database", "1.1.1.0/24", 8},
		{"v4 global, not in the database 2", "8.8.8.0/24", 7},
		{"v4 source 0", "0.0.0.0/0", 0},
		{"v6 located (JP /32)", "2001:218::/48", 32},
		{"v6 located (DE /29)", "2a02:d180::/56", 29},
		{"v6 located, shorter source", "2001:218::/24", 24},
		{"v6 loopback", "::1/128", 128},
		{"v6 loopback as unbound sends it", "::/56", 56},
		{"v6 unique local", "fd00:1::/48", 7},
		{"v6 link local", "fe80::/64", 10},
		{"v6 documentation", "2001:db8:1::/48", 32},
		{"v6 documentation 3fff", "3fff:1::/48", 20},
		{"v6 IPv4-mapped", "::ffff:10.0.0.1/128", 96},
		{"v6 multicast", "ff02::/16", 8},
		{"v6 global, not in the database", "2400::/48", 6},
		{"v6 source 0", "::/0", 0},
	}
	names := []struct {
		name      string
		qtype     uint16
		dependent bool
	}{
		{"pool.ntp.test.", dns.TypeA, true},
		{"1.pool.ntp.test.", dns.TypeA, true},
		{"2.pool.ntp.test.", dns.TypeAAAA, true},
		{"acme.pool.ntp.test.", dns.TypeA, true},
		{"3.oldco.pool.ntp.test.", dns.TypeA, true},
		{"de.pool.ntp.test.", dns.TypeA, false},
		{"2.de.pool.ntp.test.", dns.TypeAAAA, false},
		{"2.europe.pool.ntp.test.", dns.TypeA, false},
		{"se.pool.ntp.test.", dns.TypeA, false}, // explicit and empty
		{"pool.ntp.test.", dns.TypeAAAA, false}, // only 2.X has AAAA
		{"pool.ntp.test.", dns.TypeSOA, false},
		{"pool.ntp.test.", dns.TypeNS, false},
		{"pool.ntp.test.", dns.TypeMX, false},
		{"pool.ntp.test.", dns.TypeTXT, false},
		{"pool.ntp.test.", dns.TypeANY, false},
		{"nope.pool.ntp.test.", dns.TypeA, false},
		{"0.ntpcorp.pool.ntp.test.", dns.TypeAAAA, false},
	}
	p := newStaticPool(t, testConfig(), testServers(), testVendors())
	for _, client := range []string{clientUS, "10.9.8.7", "::1"} {
		for _, sn := range subnets {
			for _, n := range names {
				m := ecsMsg(n.name, n.qtype, sn.subnet)
				rec := serve(t, p, m, client)
				got, ok := replyScope(t, rec.Msg)
				want := uint8(0)
				if n.dependent {
					want = sn.scope
				}
				if !ok || got != want {
					t.Errorf("from %s, %s %s %s: scope %d (echoed %v), want %d",
						client, sn.kind, dns.TypeToString[n.qtype], n.name, got, ok, want)
				}
			}
		}
	}

	// The debug name quotes the subnet: its answer is for that subnet only.
	for _, sn := range []string{"81.2.69.160/27", "10.0.0.0/8", "2001:db8::/48", "0.0.0.0/0"} {
		rec := serve(t, p, ecsMsg("_country.pool.ntp.test.", dns.TypeTXT, sn), clientUS)
		want := ecsMsg("x.", dns.TypeA, sn).IsEdns0().Option[0].(*dns.EDNS0_SUBNET).SourceNetmask
		if got, _ := replyScope(t, rec.Msg); got != want {
			t.Errorf("_country with %s: scope %d, want %d", sn, got, want)
		}
	}

	// Without a GeoIP database every client gets the global set.
	cfg := testConfig()
	cfg.GeoIPPath = ""
	noGeo := newStaticPool(t, cfg, testServers(), testVendors())
	for _, sn := range []string{"81.2.69.160/27", "10.0.0.0/8", "2001:218::/48"} {
		rec := serve(t, noGeo, ecsMsg("pool.ntp.test.", dns.TypeA, sn), clientUS)
		if got, ok := replyScope(t, rec.Msg); !ok || got != 0 {
			t.Errorf("no GeoIP, %s: scope %d (echoed %v), want 0", sn, got, ok)
		}
	}
}

// BenchmarkSpecialBlock is the cost the special-purpose check adds to a
// located query: a global address goes through every block of its family.
func BenchmarkSpecialBlock(b *testing.B) {
	for _, s := range []string{"81.2.69.160", "2a02:d180::1"} {
		a := netip.MustParseAddr(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := specialBlock(a); ok {
					b.Fatal("special")
				}
			}
		})
	}
}

// TestSpecialBlockEdges: the first and last address of every block are in
// it, the addresses just outside are not (unless another block holds them).
func TestSpecialBlockEdges(t *testing.T) {
	for _, blocks := range [][]block{specialBlocks4, specialBlocks6} {
		for _, b := range blocks {
			first := b.pfx.Masked().Addr()
			last := first
			for n := first; b.pfx.Contains(n); n = n.Next() {
				last = n
				if n.BitLen()-b.pfx.Bits() > 8 {
					// Jump to the block's last address.
					bs := n.AsSlice()
					for i := b.pfx.Bits(); i < n.BitLen(); i++ {
						bs[i/8] |= 0x80 >> (i % 8)
					}
					last, _ = netip.AddrFromSlice(bs)
					break
				}
			}
			for _, a := range []netip.Addr{first, last} {
				if got, ok := specialBlock(a); !ok || got != b.pfx {
					t.Errorf("%s: block %v %v, want %s", a, got, ok, b.pfx)
				}
			}
			for _, a := range []netip.Addr{first.Prev(), last.Next()} {
				if !a.IsValid() {
					continue
				}
				got, ok := specialBlock(a)
				if ok && got.Contains(a) {
					continue
				}
				if ok {
					t.Errorf("%s: block %s does not hold it", a, got)
				}
			}
		}
	}
}
