package ntppool

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// TestReplyECSWireFormat: the echoed option decodes as the query's subnet
// with the scope set, for IPv4 and IPv6 and prefixes off byte boundaries.
func TestReplyECSWireFormat(t *testing.T) {
	cases := []struct {
		family uint16
		bits   uint8
		addr   string
		scope  uint8
	}{
		{1, 24, "81.2.69.0", 20},
		{1, 25, "89.160.20.128", 25},
		{1, 27, "81.2.69.160", 30}, // scope clamped to 27
		{1, 0, "0.0.0.0", 0},
		{2, 48, "2001:218::", 32},
		{2, 29, "2a02:d180::", 29},
		{1, 32, "192.0.2.1", 32},
	}
	for _, tc := range cases {
		q := new(dns.Msg)
		q.SetQuestion("pool.ntp.test.", dns.TypeA)
		q.SetEdns0(1232, true)
		ip := net.ParseIP(tc.addr)
		if tc.family == 1 {
			ip = ip.To4()
		}
		in := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: tc.family, SourceNetmask: tc.bits, Address: ip}
		m := new(dns.Msg)
		m.SetReply(q)
		setReplyECS(m, q, in, tc.scope)
		b, err := m.Pack()
		if err != nil {
			t.Fatalf("%s/%d: pack: %v", tc.addr, tc.bits, err)
		}
		var got dns.Msg
		if err := got.Unpack(b); err != nil {
			t.Fatalf("%s/%d: unpack: %v", tc.addr, tc.bits, err)
		}
		opt := got.IsEdns0()
		if opt == nil || len(opt.Option) != 1 || !opt.Do() || opt.UDPSize() != 1232 {
			t.Fatalf("%s/%d: OPT %v", tc.addr, tc.bits, opt)
		}
		e := opt.Option[0].(*dns.EDNS0_SUBNET)
		if e.Family != tc.family || e.SourceNetmask != tc.bits || e.SourceScope != min(tc.scope, tc.bits) || !e.Address.Equal(ip) {
			t.Errorf("%s/%d scope %d: echoed %v", tc.addr, tc.bits, tc.scope, e)
		}
	}
}
