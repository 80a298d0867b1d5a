package ntppool

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// debugTXT is the pool's _country answer: how this server sees the client.
// It is rare, so it may allocate freely.
func (p *NTPPool) debugTXT(ix *index, qname string, w dns.ResponseWriter, ecs *dns.EDNS0_SUBNET) dns.RR {
	src := clientAddr(w)
	port := 0
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		port = int(ap.Port())
	}
	loc := p.locate(ix, src, ecs)

	txt := []string{"client " + netip.AddrPortFrom(src, uint16(port)).String()}
	if ecs != nil {
		a, _ := netip.AddrFromSlice(ecs.Address)
		txt = append(txt, "ecs "+a.Unmap().String()+"/"+strconv.Itoa(int(ecs.SourceNetmask)))
	} else {
		txt = append(txt, "ecs none")
	}
	targets := []string{}
	if loc.country != nil {
		targets = append(targets, loc.country.name())
		if c := loc.country.parent; c != nil {
			targets = append(targets, c.name())
		}
		what := "source"
		if loc.ecs {
			what = "ecs"
		}
		pfx, _ := loc.addr.Prefix(loc.bits)
		txt = append(txt, "located "+what+" "+pfx.String())
	} else {
		txt = append(txt, "located none")
	}
	targets = append(targets, ix.global.name())
	txt = append(txt, "targets "+strings.Join(targets, " "))
	server := p.hostname
	if la := w.LocalAddr(); la != nil {
		server += " " + la.String()
	}
	txt = append(txt, "server "+server)
	return &dns.TXT{Hdr: hdr(qname, dns.TypeTXT, debugTTL), Txt: txt}
}
