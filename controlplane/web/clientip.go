package web

import (
	"net/http"
	"net/netip"

	"github.com/ntppool-ng/ntppool/controlplane/clientip"
)

// clientAddr is the address of the client that sent r: the TCP peer, or
// behind one of Config.TrustedProxies the address it names (package
// clientip).
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	return clientip.Proxies(s.cfg.TrustedProxies).Client(r)
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
