// Command monitor is the ntppool monitor agent: it fetches work from the
// control plane's monitor API, probes NTP servers, and reports the results.
// See README.md for operators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ntppool-ng/ntppool/monitor/agent"
	"github.com/ntppool-ng/ntppool/monitor/client"
	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
)

// Help texts, kept together so README's table can match them.
const (
	helpAPIURL       = "control plane base URL; use https:// beyond loopback, the token travels with every request (env NTPPOOL_MONITOR_API_URL)"
	helpCA           = "PEM file of CA certificates to trust for an https:// -api-url, instead of the system's (env NTPPOOL_MONITOR_CA)"
	helpToken        = "monitor token from 'controlplane monitor create' (env NTPPOOL_MONITOR_TOKEN; prefer -token-file)"
	helpTokenFile    = "file holding the monitor token (env NTPPOOL_MONITOR_TOKEN_FILE)"
	helpStateDir     = "directory for the result queue (env NTPPOOL_MONITOR_STATE_DIR)"
	helpConcurrency  = "servers handled at once (env NTPPOOL_MONITOR_CONCURRENCY)"
	helpJitter       = "longest random delay before a probe starts; 0: the probe spacing, negative: none (env NTPPOOL_MONITOR_JITTER)"
	helpMetrics      = "address for Prometheus metrics on /metrics; empty: off (env NTPPOOL_MONITOR_METRICS_LISTEN)"
	helpAllowPrivate = "probe private, loopback and other non-public addresses: for a local development pool only (env NTPPOOL_MONITOR_ALLOW_PRIVATE)"
	helpNTPPort      = "UDP port to probe (env NTPPOOL_MONITOR_NTP_PORT)"
	helpBaseServers  = "comma-separated host:port NTP servers to check the own clock against, replacing the control plane's list (env NTPPOOL_MONITOR_BASE_SERVERS)"
	helpSource4      = "local IPv4 address to probe IPv4 servers from; empty: the registered one when this host has it (env NTPPOOL_MONITOR_SOURCE_IP4)"
	helpSource6      = "local IPv6 address to probe IPv6 servers from; empty: the registered one when this host has it (env NTPPOOL_MONITOR_SOURCE_IP6)"
	helpSamples      = "queries per probe, replacing the control plane's setting; 0: use the control plane's (env NTPPOOL_MONITOR_SAMPLES)"
	helpSpacing      = "pause between a probe's queries, replacing the control plane's setting; 0: use the control plane's (env NTPPOOL_MONITOR_SPACING)"
	helpTimeout      = "timeout of each query, replacing the control plane's setting; 0: use the control plane's (env NTPPOOL_MONITOR_TIMEOUT)"
	helpSkipClock    = "trust the own clock without checking: development only (env NTPPOOL_MONITOR_SKIP_CLOCK_CHECK)"
	helpQueueMax     = "most result batches kept on disk; when full the agent stops fetching work (env NTPPOOL_MONITOR_QUEUE_MAX)"
	helpShutdown     = "on SIGTERM, how long to let probes in flight finish (env NTPPOOL_MONITOR_SHUTDOWN_TIMEOUT)"
	helpMemLimit     = "soft memory limit for the Go runtime, e.g. 20MiB; 0: none (env NTPPOOL_MONITOR_MEMORY_LIMIT)"
	helpLogLevel     = "log level: debug, info, warn, error (env NTPPOOL_MONITOR_LOG_LEVEL)"
	helpLogFormat    = "log format: text or json (env NTPPOOL_MONITOR_LOG_FORMAT)"
)

type config struct {
	apiURL, token, tokenFile, stateDir, metricsListen string
	caFile                                            string
	concurrency, queueMax                             int
	ntpPort                                           uint
	jitter, shutdownTimeout                           time.Duration
	allowPrivate, skipClockCheck                      bool
	baseServers, memLimit, logLevel, logFormat        string
	source4, source6                                  string
	src4, src6                                        netip.Addr
	samples                                           int
	spacing, timeout                                  time.Duration
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "monitor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log, err := newLogger(cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	if cfg.tokenFile != "" {
		b, err := os.ReadFile(cfg.tokenFile)
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		cfg.token = strings.TrimSpace(string(b))
	}
	if cfg.memLimit != "" && cfg.memLimit != "0" {
		n, err := parseBytes(cfg.memLimit)
		if err != nil {
			return fmt.Errorf("-memory-limit: %w", err)
		}
		debug.SetMemoryLimit(n)
	}
	log.Info("starting ntppool monitor", "api_url", cfg.apiURL, "token", mask(cfg.token), "state_dir", cfg.stateDir,
		"concurrency", cfg.concurrency, "metrics_listen", cfg.metricsListen, "allow_private", cfg.allowPrivate,
		"queue_max", cfg.queueMax, "skip_clock_check", cfg.skipClockCheck)
	if cfg.skipClockCheck {
		log.Warn("own clock check disabled (-skip-clock-check): results may penalise good servers")
	}

	hc, err := apiHTTPClient(cfg.caFile)
	if err != nil {
		return err
	}
	if u, err := url.Parse(cfg.apiURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		log.Warn("the API URL is plain http: the monitor token crosses the network in clear; use https://", "api-url", cfg.apiURL)
	}
	api, err := client.New(client.Options{BaseURL: cfg.apiURL, Token: cfg.token, Log: log, UserAgent: "ntppool-monitor", HTTP: hc})
	if err != nil {
		return err
	}
	q, err := queue.Open(filepath.Join(cfg.stateDir, "queue"), cfg.queueMax, log)
	if err != nil {
		return err
	}
	if n := q.Len(); n > 0 {
		log.Info("resuming the result queue from disk", "batches", n)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	var base []string
	for s := range strings.SplitSeq(cfg.baseServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			base = append(base, s)
		}
	}
	a, err := agent.New(agent.Options{API: api, Queue: q, Metrics: m, Log: log, Concurrency: cfg.concurrency,
		Jitter: cfg.jitter, AllowPrivate: cfg.allowPrivate, NTPPort: uint16(cfg.ntpPort), BaseServers: base,
		SkipClockCheck: cfg.skipClockCheck, DrainTimeout: cfg.shutdownTimeout,
		Samples: cfg.samples, Spacing: cfg.spacing, Timeout: cfg.timeout, Source4: cfg.src4, Source6: cfg.src6})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if cfg.metricsListen != "" {
		ln, err := net.Listen("tcp", cfg.metricsListen)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler(reg))
		srv := &http.Server{Handler: mux, ReadTimeout: 10 * time.Second, ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	return a.Run(ctx)
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: monitor [flags]\n\nThe ntppool monitor agent: probes the NTP servers the control plane hands it\nand reports the results. Every flag defaults to its environment variable.\n\n")
		fs.PrintDefaults()
	}
	var errs []error
	envStr := func(k, d string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return d
	}
	envInt := func(k string, d int) int {
		v, err := strconv.Atoi(envStr(k, strconv.Itoa(d)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	envBool := func(k string) bool {
		v, err := strconv.ParseBool(envStr(k, "false"))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	envDur := func(k string, d time.Duration) time.Duration {
		v, err := time.ParseDuration(envStr(k, d.String()))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	fs.StringVar(&c.apiURL, "api-url", envStr("NTPPOOL_MONITOR_API_URL", "http://127.0.0.1:8080/"), helpAPIURL)
	fs.StringVar(&c.caFile, "ca", envStr("NTPPOOL_MONITOR_CA", ""), helpCA)
	// No env default shown for the token: -help must not print a secret.
	fs.StringVar(&c.token, "token", "", helpToken)
	fs.StringVar(&c.tokenFile, "token-file", envStr("NTPPOOL_MONITOR_TOKEN_FILE", ""), helpTokenFile)
	fs.StringVar(&c.stateDir, "state-dir", envStr("NTPPOOL_MONITOR_STATE_DIR", "/var/lib/ntppool-monitor"), helpStateDir)
	fs.IntVar(&c.concurrency, "concurrency", envInt("NTPPOOL_MONITOR_CONCURRENCY", 500), helpConcurrency)
	fs.DurationVar(&c.jitter, "jitter", envDur("NTPPOOL_MONITOR_JITTER", 0), helpJitter)
	fs.StringVar(&c.metricsListen, "metrics-listen", envStr("NTPPOOL_MONITOR_METRICS_LISTEN", "127.0.0.1:9124"), helpMetrics)
	fs.BoolVar(&c.allowPrivate, "allow-private", envBool("NTPPOOL_MONITOR_ALLOW_PRIVATE"), helpAllowPrivate)
	fs.UintVar(&c.ntpPort, "ntp-port", uint(envInt("NTPPOOL_MONITOR_NTP_PORT", 123)), helpNTPPort)
	fs.StringVar(&c.baseServers, "base-servers", envStr("NTPPOOL_MONITOR_BASE_SERVERS", ""), helpBaseServers)
	fs.StringVar(&c.source4, "source-ip4", envStr("NTPPOOL_MONITOR_SOURCE_IP4", ""), helpSource4)
	fs.StringVar(&c.source6, "source-ip6", envStr("NTPPOOL_MONITOR_SOURCE_IP6", ""), helpSource6)
	fs.IntVar(&c.samples, "samples", envInt("NTPPOOL_MONITOR_SAMPLES", 0), helpSamples)
	fs.DurationVar(&c.spacing, "spacing", envDur("NTPPOOL_MONITOR_SPACING", 0), helpSpacing)
	fs.DurationVar(&c.timeout, "timeout", envDur("NTPPOOL_MONITOR_TIMEOUT", 0), helpTimeout)
	fs.BoolVar(&c.skipClockCheck, "skip-clock-check", envBool("NTPPOOL_MONITOR_SKIP_CLOCK_CHECK"), helpSkipClock)
	fs.IntVar(&c.queueMax, "queue-max", envInt("NTPPOOL_MONITOR_QUEUE_MAX", 10000), helpQueueMax)
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", envDur("NTPPOOL_MONITOR_SHUTDOWN_TIMEOUT", 30*time.Second), helpShutdown)
	fs.StringVar(&c.memLimit, "memory-limit", envStr("NTPPOOL_MONITOR_MEMORY_LIMIT", "18MiB"), helpMemLimit)
	fs.StringVar(&c.logLevel, "log-level", envStr("NTPPOOL_MONITOR_LOG_LEVEL", "info"), helpLogLevel)
	fs.StringVar(&c.logFormat, "log-format", envStr("NTPPOOL_MONITOR_LOG_FORMAT", "text"), helpLogFormat)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.token == "" {
		c.token = os.Getenv("NTPPOOL_MONITOR_TOKEN")
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if c.token == "" && c.tokenFile == "" {
		errs = append(errs, errors.New("no token: set -token-file or NTPPOOL_MONITOR_TOKEN_FILE (or -token)"))
	}
	if c.ntpPort < 1 || c.ntpPort > 65535 {
		errs = append(errs, fmt.Errorf("-ntp-port %d out of range", c.ntpPort))
	}
	for _, a := range []struct {
		flag, val string
		to        *netip.Addr
		v4        bool
	}{{"source-ip4", c.source4, &c.src4, true}, {"source-ip6", c.source6, &c.src6, false}} {
		if a.val == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.val)
		if err != nil || ip.Is4() != a.v4 {
			errs = append(errs, fmt.Errorf("-%s %q: not an address of that family", a.flag, a.val))
			continue
		}
		*a.to = ip
	}
	if c.samples < 0 || c.samples > 16 || c.spacing < 0 || c.timeout < 0 {
		errs = append(errs, errors.New("-samples must be 0..16, -spacing and -timeout not negative"))
	}
	if c.concurrency < 1 || c.queueMax < 1 {
		errs = append(errs, errors.New("-concurrency and -queue-max must be at least 1"))
	}
	return c, errors.Join(errs...)
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, o)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// mask shows that a secret is set without showing it.
func mask(s string) string {
	if s == "" {
		return "(none)"
	}
	return "(set, " + strconv.Itoa(len(s)) + " characters)"
}

// parseBytes reads "20MiB", "512KiB", "1GiB" or a plain number of bytes.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suf); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 20MiB", s)
	}
	return n * mult, nil
}
