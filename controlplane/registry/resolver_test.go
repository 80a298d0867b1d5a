package registry

import (
	"context"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// dnsServer answers A and AAAA queries from records over UDP on loopback
// and returns a net.Resolver that asks only it.
func dnsServer(t *testing.T, records map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		for _, q := range req.Question {
			for _, a := range records[q.Name] {
				ip := net.ParseIP(a)
				switch {
				case q.Qtype == dns.TypeA && ip.To4() != nil:
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip})
				case q.Qtype == dns.TypeAAAA && ip.To4() == nil:
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: ip})
				}
			}
			if _, ok := records[q.Name]; !ok {
				m.Rcode = dns.RcodeNameError
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// The registry's hostname path over a real resolver and a real DNS server:
// the A and the AAAA record each become a server.
func TestHostnameOverRealDNS(t *testing.T) {
	ctx := context.Background()
	res := dnsServer(t, map[string][]string{"ntp.example.test.": {"127.0.0.70", "::1"}})
	r, _, owner, _, _ := ownedRegistry(t, Config{Resolver: res})
	added, err := r.Add(ctx, owner, Input{Address: "ntp.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range added {
		if a.Err != nil || a.Server.ID == 0 {
			t.Fatalf("address %s: %v", a.IP, a.Err)
		}
		got = append(got, a.Server.IP.String())
	}
	if len(got) != 2 || !(got[0] == "127.0.0.70" && got[1] == "::1" || got[0] == "::1" && got[1] == "127.0.0.70") {
		t.Fatalf("servers %v, want 127.0.0.70 and ::1", got)
	}
	_, err = r.Add(ctx, owner, Input{Address: "missing.example.test"})
	wantField(t, err, FieldAddress, CodeNoAddress)
}
