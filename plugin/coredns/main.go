// Command coredns is CoreDNS with the standard plugins (plugins.go says
// which) plus ntppool, placed just before file in the plugin order (as the plugin.cfg line
// "ntppool:github.com/ntppool-ng/ntppool/plugin" above "file:file" would).
package main

import (
	"fmt"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/ntppool-ng/ntppool/plugin" // registers ntppool
)

func init() {
	if err := dnsserver.SetDirectives(withNTPPool(dnsserver.Directives)); err != nil {
		panic(fmt.Sprintf("coredns: plugin order: %v", err))
	}
}

// withNTPPool returns a copy of dirs with "ntppool" inserted before "file",
// so prometheus, log, errors, cache, dnssec and the rest act before it.
func withNTPPool(dirs []string) []string {
	if slices.Contains(dirs, "ntppool") {
		return slices.Clone(dirs)
	}
	i := slices.Index(dirs, "file")
	if i < 0 {
		i = len(dirs)
	}
	return slices.Insert(slices.Clone(dirs), i, "ntppool")
}

func main() { coremain.Run() }
