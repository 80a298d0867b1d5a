package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address of the client that sent r. Without trusted
// proxies it is the TCP peer. When the peer is one of Config.TrustedProxies,
// X-Forwarded-For is read from the right: each hop a trusted proxy appended
// is skipped, and the first address not in a trusted range is the client
// (anything left of it was written by the client itself and is ignored). A
// header that cannot be parsed leaves the last trusted hop as the client,
// which only makes its clients share one limit.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !s.trusted(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, ""
			}
			a, ok := parseHop(hop)
			if !ok {
				return client
			}
			client = a
			if !s.trusted(a) {
				return a
			}
		}
	}
	return client
}

// trusted reports whether a is in a trusted proxy range.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the TCP peer of r.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port ("192.0.2.1:5000", "[2001:db8::1]:5000").
func parseHop(h string) (netip.Addr, bool) {
	h = strings.TrimSpace(h)
	if len(h) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// clientKey is the rate-limit identity of the request's client: its
// address, or for IPv6 its /64, which one subscriber usually holds whole
// and could rotate through.
func (s *Server) clientKey(r *http.Request) string {
	return limitPrefix(s.clientAddr(r)).String()
}

func limitPrefix(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, 32)
}
