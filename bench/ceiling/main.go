// Command ceiling is the query path's yardstick for bench/dns.sh: a bare
// github.com/miekg/dns server, no CoreDNS, that answers every A or AAAA
// query with the same four records (NODATA for other types). No DNS server
// built on miekg/dns answers faster; ntppool's rate over this one is
// ratio_ceiling.
//
//	ceiling -listen 127.0.0.1:1053
package main

import (
	"flag"
	"log"
	"net"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:1053", "UDP address to answer on")
	flag.Parse()
	a := make([]net.IP, 4)
	aaaa := make([]net.IP, 4)
	for i := range a {
		a[i] = net.IPv4(192, 0, 2, byte(i+1)).To4()
		aaaa[i] = net.ParseIP("2001:db8::1")
		aaaa[i][15] = byte(i + 1)
	}
	dns.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if len(r.Question) == 1 {
			q := r.Question[0]
			hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 150}
			switch q.Qtype {
			case dns.TypeA:
				for _, ip := range a {
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip})
				}
			case dns.TypeAAAA:
				for _, ip := range aaaa {
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
				}
			}
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{Addr: *listen, Net: "udp"}
	log.Fatal(srv.ListenAndServe())
}
