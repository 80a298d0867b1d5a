package ntppool

import (
	"crypto/tls"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/durations"
	"github.com/coredns/coredns/plugin/pkg/fall"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	mwtls "github.com/coredns/coredns/plugin/pkg/tls"
	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/record"
)

const pluginName = "ntppool"

var log = clog.NewWithPlugin(pluginName)

func init() { plugin.Register(pluginName, setup) }

// Defaults, from POOL.md where the pool has a value.
const (
	defaultEndpoint       = "http://127.0.0.1:2379"
	defaultTTL            = 150 * time.Second
	minTTL                = 30 * time.Second
	defaultRecords        = 4
	defaultPeriod         = time.Hour
	defaultStartupTimeout = 5 * time.Second
	defaultDebounce       = 10 * time.Millisecond
	defaultHealthInterval = 5 * time.Second
)

// Config is the parsed Corefile block. Tests build their own.
type Config struct {
	Origins   []string    // zone origins, fully qualified, lower case
	Endpoints []string    // etcd client URLs
	TLS       *tls.Config // nil: plain
	Username  string
	Password  string
	Prefix    string   // etcd key prefix
	GeoIPPath string   // "" means no GeoIP: every client gets the global set
	TTL       uint32   // seconds
	Records   int      // records per answer
	NS        []string // name servers, fully qualified, lower case; none means ns1.<origin> (tests only: a Corefile must name them)
	// NSAddrs holds the addresses of the in-zone names of NS, which the
	// plugin answers and adds as glue.
	NSAddrs map[string][]netip.Addr
	Fall    fall.F // names the plugin does not have go to the next plugin
	Contact string // SOA mailbox as a domain name; "" means hostmaster.<origin>
	Period  time.Duration
	AAAAAll bool // AAAA on every label, not only 2.X
	Fill    bool // top small answers up from the continent, then global

	// StartupTimeout bounds how long startup waits for the first index.
	StartupTimeout time.Duration
	// Debounce is the least time between two published indexes: changes
	// arriving sooner after the last one are batched into the next.
	Debounce time.Duration
	// HealthInterval is how often etcd is probed while the watch is quiet.
	HealthInterval time.Duration
}

// DefaultConfig returns the configuration of a bare `ntppool` line.
func DefaultConfig() Config {
	return Config{
		Endpoints:      []string{defaultEndpoint},
		Prefix:         record.DefaultPrefix,
		TTL:            uint32(defaultTTL / time.Second),
		Records:        defaultRecords,
		Period:         defaultPeriod,
		StartupTimeout: defaultStartupTimeout,
		Debounce:       defaultDebounce,
		HealthInterval: defaultHealthInterval,
	}
}

func setup(c *caddy.Controller) error {
	cfg, err := parse(c)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	p, err := New(cfg)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	c.OnStartup(p.Start)
	c.OnShutdown(p.Stop)
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		p.Next = next
		return p
	})
	return nil
}

// parse reads one ntppool block. Every error names the offending line.
func parse(c *caddy.Controller) (Config, error) {
	cfg := DefaultConfig()
	root := dnsserver.GetConfig(c).Root
	blocks := 0
	for c.Next() {
		if blocks > 0 {
			return cfg, plugin.ErrOnce
		}
		blocks++
		cfg.Origins = plugin.OriginsFromArgsOrServerBlock(c.RemainingArgs(), c.ServerBlockKeys)
		for i, o := range cfg.Origins {
			cfg.Origins[i] = strings.ToLower(dns.Fqdn(o))
		}
		for c.NextBlock() {
			if err := parseOption(c, &cfg, root); err != nil {
				return cfg, err
			}
		}
		if len(cfg.NS) == 0 {
			// A made-up default such as ns1.ZONE would have no address:
			// the zone's delegation would point at a name that does not
			// resolve.
			return cfg, c.Errf("no name server: add a line ns NAME [ADDRESS...] for each of the zone's name servers (a NAME inside the zone needs its addresses)")
		}
	}
	if cfg.GeoIPPath != "" {
		// Open once here so a missing or wrong database fails setup.
		g, err := openGeo(cfg.GeoIPPath)
		if err != nil {
			return cfg, c.Errf("geoip %s: %v", cfg.GeoIPPath, err)
		}
		g.Close()
	}
	return cfg, nil
}

func parseOption(c *caddy.Controller, cfg *Config, root string) error {
	opt := c.Val()
	args := c.RemainingArgs()
	one := func() (string, error) {
		if len(args) != 1 {
			return "", c.ArgErr()
		}
		return args[0], nil
	}
	none := func() error {
		if len(args) != 0 {
			return c.ArgErr()
		}
		return nil
	}
	duration := func() (time.Duration, error) {
		a, err := one()
		if err != nil {
			return 0, err
		}
		d, err := durations.NewDurationFromArg(a)
		if err != nil || d <= 0 {
			return 0, c.Errf("%s: bad duration %q", opt, a)
		}
		return d, nil
	}
	var err error
	switch opt {
	case "endpoint":
		if len(args) == 0 {
			return c.ArgErr()
		}
		cfg.Endpoints = args
	case "credentials":
		if len(args) != 2 {
			return c.Errf("credentials needs 2 arguments, USERNAME and PASSWORD")
		}
		cfg.Username, cfg.Password = args[0], args[1]
	case "tls":
		if len(args) > 3 {
			return c.ArgErr()
		}
		for i := range args {
			args[i] = rooted(root, args[i])
		}
		if cfg.TLS, err = mwtls.NewTLSConfigFromArgs(args...); err != nil {
			return c.Errf("tls: %v", err)
		}
	case "path":
		a, err := one()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(a, "/") {
			return c.Errf("path %q must start with /", a)
		}
		cfg.Prefix = record.NormalizePrefix(a)
	case "geoip":
		a, err := one()
		if err != nil {
			return err
		}
		cfg.GeoIPPath = rooted(root, a)
	case "ttl":
		d, err := duration()
		if err != nil {
			return err
		}
		if d < minTTL {
			return c.Errf("ttl %s is below the minimum of %s", d, minTTL)
		}
		cfg.TTL = uint32(d / time.Second)
	case "records":
		a, err := one()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > maxAnswer {
			return c.Errf("records %q: want a number from 1 to %d", a, maxAnswer)
		}
		cfg.Records = n
	case "ns":
		return parseNS(c, cfg, args)
	case "fallthrough":
		cfg.Fall.SetZonesFromArgs(args)
	case "contact":
		a, err := one()
		if err != nil {
			return err
		}
		a = strings.Replace(a, "@", ".", 1)
		if _, ok := dns.IsDomainName(a); !ok {
			return c.Errf("contact %q is not a mailbox", args[0])
		}
		cfg.Contact = dns.Fqdn(a)
	case "period":
		if cfg.Period, err = duration(); err != nil {
			return err
		}
	case "startup_timeout":
		if cfg.StartupTimeout, err = duration(); err != nil {
			return err
		}
	case "aaaa_all":
		if err := none(); err != nil {
			return err
		}
		cfg.AAAAAll = true
	case "fill":
		if err := none(); err != nil {
			return err
		}
		cfg.Fill = true
	default:
		return c.Errf("unknown property %q", opt)
	}
	return nil
}

func rooted(root, path string) string {
	if root == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// parseNS reads one line "ns NAME [ADDRESS...]". A NAME inside one of the
// zones must have addresses (the plugin answers for it and gives them as
// glue) and must not be a pool name; one outside must not.
func parseNS(c *caddy.Controller, cfg *Config, args []string) error {
	if len(args) == 0 {
		return c.ArgErr()
	}
	if _, ok := dns.IsDomainName(args[0]); !ok {
		return c.Errf("ns %q is not a domain name", args[0])
	}
	name := strings.ToLower(dns.Fqdn(args[0]))
	if slices.Contains(cfg.NS, name) {
		return c.Errf("ns %s is named twice", name)
	}
	var addrs []netip.Addr
	for _, a := range args[1:] {
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" {
			return c.Errf("ns %s: %q is not an IP address (one ns line per name server: ns NAME [ADDRESS...])", name, a)
		}
		addrs = append(addrs, ip.Unmap())
	}
	origin, labels, inZone := splitOrigin(name, cfg.Origins)
	switch {
	case inZone && len(addrs) == 0:
		return c.Errf("ns %s is inside zone %s but has no address: write ns %s ADDRESS...", name, origin, name)
	case inZone && isPoolName(labels):
		return c.Errf("ns %s is a name the pool answers itself", name)
	case !inZone && len(addrs) > 0:
		return c.Errf("ns %s is outside the zones %v: its addresses come from its own zone, not from this line", name, cfg.Origins)
	}
	cfg.NS = append(cfg.NS, name)
	if len(addrs) > 0 {
		if cfg.NSAddrs == nil {
			cfg.NSAddrs = map[string][]netip.Addr{}
		}
		cfg.NSAddrs[name] = addrs
	}
	return nil
}
