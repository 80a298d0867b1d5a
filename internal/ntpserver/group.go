package ntpserver

import (
	"errors"
	"fmt"
	"net/netip"
)

// ListenSamePort starts one server per address, all on one port chosen by
// the system (a monitor probes every server on the same port), cfgs[i] for
// addrs[i]. On error nothing is left listening.
func ListenSamePort(addrs []netip.Addr, cfgs []Config) ([]*Server, error) {
	if len(addrs) == 0 || len(addrs) != len(cfgs) {
		return nil, errors.New("ntpserver: need one config per address")
	}
	var lastErr error
	for range 10 { // the port free on the first address may be taken on another
		first, err := Listen(netip.AddrPortFrom(addrs[0], 0).String(), cfgs[0])
		if err != nil {
			return nil, err
		}
		all := []*Server{first}
		port := first.Addr().Port()
		for i := 1; i < len(addrs); i++ {
			s, err := Listen(netip.AddrPortFrom(addrs[i], port).String(), cfgs[i])
			if err != nil {
				lastErr = err
				break
			}
			all = append(all, s)
		}
		if len(all) == len(addrs) {
			return all, nil
		}
		for _, s := range all {
			s.Close()
		}
	}
	return nil, fmt.Errorf("ntpserver: no common free port: %w", lastErr)
}
