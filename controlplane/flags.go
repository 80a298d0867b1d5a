package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// env reads flag defaults from the environment and collects bad values.
type env struct{ errs []error }

func (e *env) str(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func (e *env) dur(key string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(e.str(key, def.String()))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", key, err))
		return def
	}
	return v
}

func (e *env) boolean(key string, def bool) bool {
	v, err := strconv.ParseBool(e.str(key, strconv.FormatBool(def)))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", key, err))
		return def
	}
	return v
}

func (e *env) integer(key string, def int) int {
	v, err := strconv.Atoi(e.str(key, strconv.Itoa(def)))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", key, err))
		return def
	}
	return v
}

// secret reads a secret flag's value: the flag, else the environment
// variable, else the file named by KEY_FILE. Secrets never appear as flag
// defaults, so -help cannot print them.
func secret(flagValue, key string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := os.Getenv(key); v != "" {
		return v, nil
	}
	if f := os.Getenv(key + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", key, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// newFlagSet returns a flag set whose help starts with text.
func newFlagSet(name, text string, errOut io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "Usage: controlplane %s\n\n%s\n\nFlags (each defaults to the environment variable named):\n", name, text)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and joins flag, environment and argument-count errors.
func parse(fs *flag.FlagSet, e *env, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != nargs {
		e.errs = append(e.errs, fmt.Errorf("want %d argument(s), got %q", nargs, fs.Args()))
	}
	if err := errors.Join(e.errs...); err != nil {
		fs.Usage()
		return err
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// Help texts kept as constants, one place to word them.
const (
	helpDB         = "SQLite database file or modernc.org/sqlite DSN, or a postgres:// URL (env NTPPOOL_DB)"
	helpListen     = "HTTP address of the web UI and the monitor API (env NTPPOOL_LISTEN)"
	helpPrefix     = "etcd key prefix of the published records (env NTPPOOL_PREFIX)"
	helpAllowPriv  = "accept private, loopback and other non-public server addresses: local pools only (env NTPPOOL_ALLOW_PRIVATE)"
	helpGeoIP      = "GeoIP2/GeoLite2 Country database for new servers' countries; empty: none (env NTPPOOL_GEOIP)"
	helpNTPPort    = "UDP port of the NTP check at registration (env NTPPOOL_NTP_PORT)"
	helpRetention  = "keep score history this long; 0 keeps it forever (env NTPPOOL_RETENTION)"
	helpLogLevel   = "log level: debug, info, warn, error (env NTPPOOL_LOG_LEVEL)"
	helpLogFormat  = "log format: text or json (env NTPPOOL_LOG_FORMAT)"
	helpTicketKey  = "key signing monitor tickets, shared by all instances; empty: generated once and kept in the database (env NTPPOOL_TICKET_KEY or the file in NTPPOOL_TICKET_KEY_FILE)"
	helpLeaseTTL   = "leader lease: a dead leader is replaced within it (env NTPPOOL_LEASE_TTL)"
	helpBaseURL    = "public address of the web site, for links in emails (env NTPPOOL_BASE_URL)"
	helpPoolZone   = "DNS zone of the pool (env NTPPOOL_ZONE)"
	helpEndpoints  = "etcd endpoints, comma-separated (env NTPPOOL_ETCD_ENDPOINTS)"
	helpEtcdCert   = "etcd client TLS certificate (env NTPPOOL_ETCD_CERT)"
	helpEtcdKey    = "etcd client TLS key (env NTPPOOL_ETCD_KEY)"
	helpEtcdCA     = "etcd CA certificate bundle (env NTPPOOL_ETCD_CACERT)"
	helpEtcdUser   = "etcd user name (env NTPPOOL_ETCD_USER)"
	helpEtcdPass   = "etcd password (env NTPPOOL_ETCD_PASSWORD or the file in NTPPOOL_ETCD_PASSWORD_FILE)"
	helpEtcdDial   = "etcd dial and authentication timeout (env NTPPOOL_ETCD_DIAL_TIMEOUT)"
	helpElection   = "etcd key prefix of the leader election, outside -prefix (env NTPPOOL_ELECTION_PREFIX)"
	helpInsecure   = "skip verifying the etcd server's certificate (env NTPPOOL_ETCD_INSECURE_SKIP_VERIFY)"
	helpMetrics    = "address of the Prometheus /metrics endpoint; empty: none (env NTPPOOL_METRICS_LISTEN)"
	helpSecureCook = "mark session cookies Secure; default on when -base-url is https:// (env NTPPOOL_SECURE_COOKIES)"
	helpSiteName   = "name of the site in pages and emails (env NTPPOOL_SITE_NAME)"
	helpNewsDir    = "folder of news as Markdown files named YYYY-MM-DD-slug.md; empty: no news (env NTPPOOL_NEWS_DIR)"
	helpTerms      = "Markdown file replacing the built-in terms of service (env NTPPOOL_TERMS_FILE)"
	helpPrivacy    = "Markdown file replacing the built-in privacy page (env NTPPOOL_PRIVACY_FILE)"
	helpSMTPHost   = "SMTP relay host for emails; empty: emails are written to the log (env NTPPOOL_SMTP_HOST)"
	helpSMTPPort   = "SMTP relay port (env NTPPOOL_SMTP_PORT)"
	helpSMTPUser   = "SMTP user name; empty: no authentication (env NTPPOOL_SMTP_USER)"
	helpSMTPPass   = "SMTP password (env NTPPOOL_SMTP_PASSWORD or the file in NTPPOOL_SMTP_PASSWORD_FILE)"
	helpMailFrom   = "sender address of emails (env NTPPOOL_MAIL_FROM)"
	helpTrusted    = "reverse proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For names the client for rate limits and the monitor address check; empty: the TCP peer is the client (env NTPPOOL_TRUSTED_PROXIES)"
	helpTLSCert    = "PEM certificate (chain) to serve HTTPS with, reloaded when the file changes; empty: plain HTTP (env NTPPOOL_TLS_CERT)"
	helpTLSKey     = "PEM private key of -tls-cert (env NTPPOOL_TLS_KEY)"
)

// networkFlags are serve's central settings for the monitor network: the
// probe rules and self-check handed to every monitor through the config
// endpoint, the probe intervals, and the scoring options.
type networkFlags struct {
	baseServers                           string
	baseMaxOffset, baseCheckTTL, idlePoll time.Duration
	samples                               int
	spacing, timeout                      time.Duration
	activeEvery, testingEvery, slowEvery  time.Duration
	leapIsError                           bool
	rampWidth, rampFloor                  string
	anyAddress                            bool
}

func (n *networkFlags) add(fs *flag.FlagSet, e *env) {
	d := monitorapi.DefaultProbe()
	sc, ac := score.DefaultConfig(), assign.DefaultConfig()
	fs.StringVar(&n.baseServers, "base-servers", e.str("NTPPOOL_BASE_SERVERS", ""), "NTP servers (host:port, comma-separated) monitors check their own clock against; empty: each monitor's kernel sync state (env NTPPOOL_BASE_SERVERS)")
	fs.DurationVar(&n.baseMaxOffset, "base-max-offset", e.dur("NTPPOOL_BASE_MAX_OFFSET", d.BaseMaxOffset), "largest offset from a base server a monitor's clock may have (env NTPPOOL_BASE_MAX_OFFSET)")
	fs.DurationVar(&n.baseCheckTTL, "base-check-ttl", e.dur("NTPPOOL_BASE_CHECK_TTL", d.BaseCheckTTL), "how long a monitor trusts one clock check (env NTPPOOL_BASE_CHECK_TTL)")
	fs.IntVar(&n.samples, "probe-samples", e.integer("NTPPOOL_PROBE_SAMPLES", d.Samples), "NTP queries per probe, 1..16 (env NTPPOOL_PROBE_SAMPLES)")
	fs.DurationVar(&n.spacing, "probe-spacing", e.dur("NTPPOOL_PROBE_SPACING", d.Spacing), "pause between a probe's queries (env NTPPOOL_PROBE_SPACING)")
	fs.DurationVar(&n.timeout, "probe-timeout", e.dur("NTPPOOL_PROBE_TIMEOUT", d.Timeout), "timeout of each query (env NTPPOOL_PROBE_TIMEOUT)")
	fs.DurationVar(&n.idlePoll, "idle-poll", e.dur("NTPPOOL_IDLE_POLL", d.IdlePoll), "how long a monitor with nothing due waits before asking again (env NTPPOOL_IDLE_POLL)")
	fs.DurationVar(&n.activeEvery, "active-interval", e.dur("NTPPOOL_ACTIVE_INTERVAL", ac.ActiveInterval), "probe interval of an active monitor for a server (env NTPPOOL_ACTIVE_INTERVAL)")
	fs.DurationVar(&n.testingEvery, "testing-interval", e.dur("NTPPOOL_TESTING_INTERVAL", ac.TestingInterval), "probe interval of a testing monitor, and of an active pair of a testing monitor (env NTPPOOL_TESTING_INTERVAL)")
	fs.DurationVar(&n.slowEvery, "slow-interval", e.dur("NTPPOOL_SLOW_INTERVAL", ac.SlowInterval), "probe interval of candidates, paused pairs and low scores (env NTPPOOL_SLOW_INTERVAL)")
	fs.BoolVar(&n.leapIsError, "leap-unsync-is-error", e.boolean("NTPPOOL_LEAP_UNSYNC_IS_ERROR", sc.LeapUnsyncIsError), "score a reply with leap indicator 3 as an error; the pool ignores it (env NTPPOOL_LEAP_UNSYNC_IS_ERROR)")
	fs.StringVar(&n.rampWidth, "ramp-width", e.str("NTPPOOL_RAMP_WIDTH", strconv.FormatFloat(sc.RampWidth, 'g', -1, 64)), "score points over which a new server's DNS weight ramps up to its net speed; 0: none, as the pool (env NTPPOOL_RAMP_WIDTH)")
	fs.StringVar(&n.rampFloor, "ramp-floor", e.str("NTPPOOL_RAMP_FLOOR", strconv.FormatFloat(sc.RampFloor, 'g', -1, 64)), "share of the net speed at the start of the ramp (env NTPPOOL_RAMP_FLOOR)")
	fs.BoolVar(&n.anyAddress, "monitor-any-address", e.boolean("NTPPOOL_MONITOR_ANY_ADDRESS", false), "accept monitors from any address, as if all were behind NAT; otherwise only from their registered addresses (env NTPPOOL_MONITOR_ANY_ADDRESS)")
}

// apply checks the settings and writes them into the production rules.
func (n *networkFlags) apply(c *appConfig) error {
	rw, err1 := strconv.ParseFloat(n.rampWidth, 64)
	rf, err2 := strconv.ParseFloat(n.rampFloor, 64)
	switch {
	case err1 != nil || err2 != nil || rw < 0 || rf < 0 || rf > 1:
		return fmt.Errorf("-ramp-width %q, -ramp-floor %q: want a width >= 0 and a floor in 0..1", n.rampWidth, n.rampFloor)
	case n.samples < 1 || n.samples > 16:
		return fmt.Errorf("-probe-samples %d: want 1..16", n.samples)
	case n.spacing < 0 || n.timeout <= 0 || n.idlePoll <= 0 || n.baseMaxOffset <= 0 || n.baseCheckTTL <= 0:
		return errors.New("-probe-spacing must not be negative; -probe-timeout, -idle-poll, -base-max-offset and -base-check-ttl must be positive")
	case n.activeEvery <= 0 || n.testingEvery <= 0 || n.slowEvery <= 0:
		return errors.New("-active-interval, -testing-interval and -slow-interval must be positive")
	}
	c.Score.LeapUnsyncIsError, c.Score.RampWidth, c.Score.RampFloor = n.leapIsError, rw, rf
	c.Assign.ActiveInterval, c.Assign.TestingInterval, c.Assign.SlowInterval = n.activeEvery, n.testingEvery, n.slowEvery
	c.API.Samples, c.API.Spacing, c.API.Timeout, c.API.IdlePoll = n.samples, n.spacing, n.timeout, n.idlePoll
	c.API.BaseMaxOffset, c.API.BaseCheckTTL, c.API.AnyAddress = n.baseMaxOffset, n.baseCheckTTL, n.anyAddress
	c.API.BaseServers = nil
	for _, s := range strings.Split(n.baseServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.API.BaseServers = append(c.API.BaseServers, s)
		}
	}
	return nil
}

// parsePrefixes reads a comma-separated list of CIDRs or single addresses.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
