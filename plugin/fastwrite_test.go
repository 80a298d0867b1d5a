package ntppool

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// captureWriter keeps what is written through either method.
type captureWriter struct {
	test.ResponseWriter
	msg   *dns.Msg
	bytes []byte
}

func (c *captureWriter) WriteMsg(m *dns.Msg) error { c.msg = m; return nil }

func (c *captureWriter) Write(b []byte) (int, error) {
	c.bytes = append([]byte(nil), b...)
	return len(b), nil
}

// TestFastWriteMatchesCoreDNS: for every kind of reply the plugin gives,
// the bytes writeReply sends without CoreDNS's packing decode to the same
// message CoreDNS's ScrubWriter would send, and replies of other shapes
// go through WriteMsg.
func TestFastWriteMatchesCoreDNS(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), testVendors())
	cookie := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	cases := []struct {
		name  string
		qname string
		qtype uint16
		ecs   string
		edns  bool
		do    bool
		opts  []dns.EDNS0
		fast  bool
	}{
		{"apex", "pool.ntp.test.", dns.TypeA, "", false, false, nil, true},
		{"apex edns", "pool.ntp.test.", dns.TypeA, "", true, false, nil, true},
		{"apex edns do", "POOL.ntp.test.", dns.TypeA, "", true, true, nil, true},
		{"apex ecs", "pool.ntp.test.", dns.TypeA, "81.2.69.160/27", true, true, nil, true},
		{"aaaa ecs", "2.de.pool.ntp.test.", dns.TypeAAAA, "2a02:d180::/29", true, false, nil, true},
		{"numbered", "1.de.pool.ntp.test.", dns.TypeA, "", false, false, nil, true},
		{"nodata", "de.pool.ntp.test.", dns.TypeAAAA, "", false, false, nil, false},
		{"nxdomain", "nope.pool.ntp.test.", dns.TypeA, "", true, false, nil, false},
		{"mx", "de.pool.ntp.test.", dns.TypeMX, "", false, false, nil, false},
		{"cookie", "de.pool.ntp.test.", dns.TypeA, "", true, false, []dns.EDNS0{cookie}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mk := func() *dns.Msg {
				r := ecsMsg(tc.qname, tc.qtype, tc.ecs)
				if tc.edns && r.IsEdns0() == nil {
					r.SetEdns0(1232, tc.do)
				}
				if o := r.IsEdns0(); o != nil {
					o.SetDo(tc.do)
					o.Option = append(o.Option, tc.opts...)
				}
				r.Id = 4242
				return r
			}
			// Fast path: the plugin gets CoreDNS's ScrubWriter.
			r := mk()
			cw := &captureWriter{ResponseWriter: test.ResponseWriter{RemoteIP: clientUK}}
			p.ServeDNS(context.Background(), request.NewScrubWriter(r, cw), r)
			if tc.fast != (cw.bytes != nil) {
				t.Fatalf("fast path taken: %v, want %v", cw.bytes != nil, tc.fast)
			}
			if !tc.fast {
				return
			}
			got := new(dns.Msg)
			if err := got.Unpack(cw.bytes); err != nil {
				t.Fatalf("unpack: %v", err)
			}
			// The ordinary path with the same answer records: a plugin in
			// front (a plain wrapper) makes the plugin use WriteMsg, then
			// the ScrubWriter does what CoreDNS does.
			r2 := mk()
			cw2 := &captureWriter{ResponseWriter: test.ResponseWriter{RemoteIP: clientUK}}
			p.ServeDNS(context.Background(), struct{ dns.ResponseWriter }{request.NewScrubWriter(r2, cw2)}, r2)
			if cw2.msg == nil {
				t.Fatal("wrapped writer: no WriteMsg")
			}
			want := cw2.msg
			// Answers are random draws: compare with the fast reply's.
			want.Answer = got.Answer
			wb, err := want.Pack()
			if err != nil {
				t.Fatal(err)
			}
			want = new(dns.Msg)
			if err := want.Unpack(wb); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("fast reply\n%v\nCoreDNS would send\n%v", got, want)
			}
			if len(got.Answer) == 0 {
				t.Error("no answers")
			}
		})
	}
}

// BenchmarkWriteReply compares the fast path with CoreDNS's packing of the
// same apex reply with ECS.
func BenchmarkWriteReply(b *testing.B) {
	p := newStaticPool(b, testConfig(), testServers(), nil)
	r := ecsMsg("pool.ntp.test.", dns.TypeA, "81.2.69.160/27")
	w := &discardWriter{test.ResponseWriter{RemoteIP: "127.0.0.1"}}
	for _, mode := range []string{"fast", "coredns"} {
		b.Run(mode, func(b *testing.B) {
			var sw dns.ResponseWriter = request.NewScrubWriter(r, packWriter{w})
			if mode == "coredns" {
				sw = struct{ dns.ResponseWriter }{sw}
			}
			b.ReportAllocs()
			for b.Loop() {
				p.ServeDNS(context.Background(), sw, r)
			}
		})
	}
}

// packWriter packs what WriteMsg gets, as miekg/dns's writer does.
type packWriter struct{ dns.ResponseWriter }

func (w packWriter) WriteMsg(m *dns.Msg) error {
	_, err := m.Pack()
	return err
}

func (w packWriter) Write(b []byte) (int, error) { return len(b), nil }
