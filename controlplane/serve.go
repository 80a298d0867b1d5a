package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/alert"
	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// common holds the flags serve and dev share.
type common struct {
	app                 appConfig
	db                  string
	ticketKey           string
	smtpPassword        string
	ntpPort             int
	logLevel, logFormat string
	trustedProxies      string
}

// addCommon registers the shared flags; defaults differ between commands.
func addCommon(fs *flag.FlagSet, e *env, c *common, db string, allowPrivate bool) {
	fs.StringVar(&c.db, "db", e.str("NTPPOOL_DB", db), helpDB)
	fs.StringVar(&c.app.Listen, "listen", e.str("NTPPOOL_LISTEN", "127.0.0.1:8080"), helpListen)
	fs.StringVar(&c.app.Prefix, "prefix", e.str("NTPPOOL_PREFIX", record.DefaultPrefix), helpPrefix)
	fs.BoolVar(&c.app.AllowPrivate, "allow-private", e.boolean("NTPPOOL_ALLOW_PRIVATE", allowPrivate), helpAllowPriv)
	fs.StringVar(&c.app.GeoIPPath, "geoip", e.str("NTPPOOL_GEOIP", ""), helpGeoIP)
	fs.IntVar(&c.ntpPort, "ntp-port", e.integer("NTPPOOL_NTP_PORT", 123), helpNTPPort)
	fs.DurationVar(&c.app.Retention, "retention", e.dur("NTPPOOL_RETENTION", 0), helpRetention)
	fs.StringVar(&c.app.BaseURL, "base-url", e.str("NTPPOOL_BASE_URL", "http://127.0.0.1:8080"), helpBaseURL)
	fs.StringVar(&c.app.PoolZone, "zone", e.str("NTPPOOL_ZONE", "pool.ntp.test"), helpPoolZone)
	fs.BoolVar(&c.app.SecureCookie, "secure-cookies", e.boolean("NTPPOOL_SECURE_COOKIES", false), helpSecureCook)
	fs.StringVar(&c.ticketKey, "ticket-key", "", helpTicketKey)
	fs.StringVar(&c.app.SiteName, "site-name", e.str("NTPPOOL_SITE_NAME", "NTP Pool"), helpSiteName)
	fs.StringVar(&c.app.NewsDir, "news-dir", e.str("NTPPOOL_NEWS_DIR", ""), helpNewsDir)
	fs.StringVar(&c.app.TermsFile, "terms-file", e.str("NTPPOOL_TERMS_FILE", ""), helpTerms)
	fs.StringVar(&c.app.PrivacyFile, "privacy-file", e.str("NTPPOOL_PRIVACY_FILE", ""), helpPrivacy)
	fs.StringVar(&c.app.Mail.Host, "smtp-host", e.str("NTPPOOL_SMTP_HOST", ""), helpSMTPHost)
	fs.IntVar(&c.app.Mail.Port, "smtp-port", e.integer("NTPPOOL_SMTP_PORT", 25), helpSMTPPort)
	fs.StringVar(&c.app.Mail.User, "smtp-user", e.str("NTPPOOL_SMTP_USER", ""), helpSMTPUser)
	fs.StringVar(&c.smtpPassword, "smtp-password", "", helpSMTPPass)
	fs.StringVar(&c.app.Mail.From, "mail-from", e.str("NTPPOOL_MAIL_FROM", "pool@localhost"), helpMailFrom)
	fs.StringVar(&c.logLevel, "log-level", e.str("NTPPOOL_LOG_LEVEL", "info"), helpLogLevel)
	fs.StringVar(&c.logFormat, "log-format", e.str("NTPPOOL_LOG_FORMAT", "text"), helpLogFormat)
	fs.StringVar(&c.trustedProxies, "trusted-proxies", e.str("NTPPOOL_TRUSTED_PROXIES", ""), helpTrusted)
}

// finish checks the shared flags and fills the production rules.
func (c *common) finish() error {
	if c.ntpPort < 1 || c.ntpPort > 65535 {
		return fmt.Errorf("-ntp-port %d out of range", c.ntpPort)
	}
	c.app.NTPPort = uint16(c.ntpPort)
	var err error
	if c.app.TrustedProxies, err = parsePrefixes(c.trustedProxies); err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	key, err := secret(c.ticketKey, "NTPPOOL_TICKET_KEY")
	if err != nil {
		return err
	}
	if key != "" {
		if len(key) < 32 {
			return fmt.Errorf("-ticket-key: at least 32 characters")
		}
		c.app.TicketKey = []byte(key)
	}
	if c.app.Mail.Password, err = secret(c.smtpPassword, "NTPPOOL_SMTP_PASSWORD"); err != nil {
		return err
	}
	return nil
}

// productionRules are POOL.md's rules and intervals.
func productionRules(c *appConfig) {
	c.Score = score.DefaultConfig()
	c.Assign = assign.DefaultConfig()
	c.Alert = alert.DefaultConfig()
	c.API = api.Config{}
	c.Tick = 10 * time.Second
	c.Recheck = 10 * time.Second
	c.Debounce = 50 * time.Millisecond
}

func runServe(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	var c common
	fs := newFlagSet("serve [flags]", "Runs the control plane against an external etcd cluster. Several instances may\nshare one etcd and database: one leads (scores, selects, publishes), the others\nserve the API and take over when it dies.", errOut)
	addCommon(fs, e, &c, "ntppool.db", false)
	var spec clientv3.ConfigSpec
	var endpoints, user, pass string
	var insecure bool
	sec := &clientv3.SecureConfig{}
	fs.StringVar(&endpoints, "etcd-endpoints", e.str("NTPPOOL_ETCD_ENDPOINTS", "http://127.0.0.1:2379"), helpEndpoints)
	fs.StringVar(&sec.Cert, "etcd-cert", e.str("NTPPOOL_ETCD_CERT", ""), helpEtcdCert)
	fs.StringVar(&sec.Key, "etcd-key", e.str("NTPPOOL_ETCD_KEY", ""), helpEtcdKey)
	fs.StringVar(&sec.Cacert, "etcd-cacert", e.str("NTPPOOL_ETCD_CACERT", ""), helpEtcdCA)
	fs.BoolVar(&insecure, "etcd-insecure-skip-verify", e.boolean("NTPPOOL_ETCD_INSECURE_SKIP_VERIFY", false), helpInsecure)
	fs.StringVar(&user, "etcd-user", e.str("NTPPOOL_ETCD_USER", ""), helpEtcdUser)
	fs.StringVar(&pass, "etcd-password", "", helpEtcdPass)
	fs.DurationVar(&spec.DialTimeout, "etcd-dial-timeout", e.dur("NTPPOOL_ETCD_DIAL_TIMEOUT", 5*time.Second), helpEtcdDial)
	fs.StringVar(&c.app.Election, "election-prefix", e.str("NTPPOOL_ELECTION_PREFIX", "/ntppool-control/leader"), helpElection)
	fs.DurationVar(&c.app.LeaseTTL, "lease-ttl", e.dur("NTPPOOL_LEASE_TTL", 10*time.Second), helpLeaseTTL)
	metrics := fs.String("metrics-listen", e.str("NTPPOOL_METRICS_LISTEN", "127.0.0.1:9125"), helpMetrics)
	var nf networkFlags
	nf.add(fs, e)
	fs.StringVar(&c.app.TLSCert, "tls-cert", e.str("NTPPOOL_TLS_CERT", ""), helpTLSCert)
	fs.StringVar(&c.app.TLSKey, "tls-key", e.str("NTPPOOL_TLS_KEY", ""), helpTLSKey)
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	// An HTTPS site gets Secure cookies unless told otherwise.
	if !flagSet(fs, "secure-cookies") && os.Getenv("NTPPOOL_SECURE_COOKIES") == "" {
		c.app.SecureCookie = strings.HasPrefix(c.app.BaseURL, "https://")
	}
	if err := c.finish(); err != nil {
		return err
	}
	productionRules(&c.app)
	if err := nf.apply(&c.app); err != nil {
		return err
	}
	log, err := newLogger(errOut, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	if pass, err = secret(pass, "NTPPOOL_ETCD_PASSWORD"); err != nil {
		return err
	}
	for _, ep := range strings.Split(endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			spec.Endpoints = append(spec.Endpoints, ep)
		}
	}
	sec.InsecureSkipVerify = insecure
	if sec.Cert != "" || sec.Key != "" || sec.Cacert != "" || insecure {
		spec.Secure = sec
	}
	if user != "" {
		spec.Auth = &clientv3.AuthConfig{Username: user, Password: pass}
	}
	ecfg, err := clientv3.NewClientConfig(&spec, zap.NewNop())
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	ecfg.Context = ctx
	// The client's own retries are noise at warn level; failures that
	// matter surface as errors in our log.
	ecfg.Logger = zap.NewNop()
	cli, err := clientv3.New(*ecfg)
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()

	if err := privateDBFile(c.db, log); err != nil {
		return err
	}
	st, err := store.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := newApp(ctx, c.app, st, cli, log)
	if err != nil {
		return err
	}
	ln, err := a.listen()
	if err != nil {
		return err
	}
	if err := a.serveMetrics(ctx, *metrics); err != nil {
		return err
	}
	log.Info("control plane serving", "http", a.scheme()+"://"+ln.Addr().String(), "etcd", spec.Endpoints, "db", store.Redacted(c.db))
	return a.run(ctx, ln)
}
