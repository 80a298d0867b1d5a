// Package registry holds the rules for adding, changing and removing NTP
// servers: what address may join (an IP address, or a hostname whose A
// and AAAA records each become a server), the NTP check at registration,
// the country from GeoIP with the owner's override, the net speed menu,
// deletion scheduling, and ownership: a new server is unverified until a
// request from its own address presents its token (verify.go); until then
// its net speed can only go down, and an account with MaxUnverified
// servers and claims waiting cannot add more. An address another account
// holds becomes a claim that only verification turns into a server.
// Refusals are *FieldError values naming the form field they belong beside.
//
// # Usage
//
//	reg := registry.New(st, registry.Config{GeoIP: geo})
//	added, err := reg.Add(ctx, accountID, registry.Input{Address: "ntp1.example.org"})
//	for _, a := range added { /* a.Server, a.Claim or a.Err, and a.Message() */ }
//	if fe, ok := errors.AsType[*registry.FieldError](err); ok { /* show fe.Error() beside fe.Field() */ }
//	tok, err := reg.NewServerToken(ctx, accountID, serverID) // the owner fetches /verify/<tok.Token> from the server
//	srv, err := reg.Verify(ctx, token, requestSourceAddr)
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/netclass"
	"github.com/ntppool-ng/ntppool/probe"
	"github.com/ntppool-ng/ntppool/record"
)

// Form fields a FieldError can name.
const (
	FieldAddress  = "ip"
	FieldNetspeed = "netspeed"
	FieldCountry  = "country"
	FieldDeletion = "deletion"
	FieldVerify   = "verify"
)

// Codes of FieldError, stable for tests and translations.
const (
	CodeInvalid    = "invalid"
	CodeNotPublic  = "not_public"
	CodeRegistered = "registered"
	CodeNoNTP      = "no_ntp"
	CodeStratum    = "stratum"
	// CodeNoAddress: a hostname without A or AAAA records.
	CodeNoAddress = "no_address"
	// CodeClaimed: another account holds the address; a claim waits for
	// verification from it.
	CodeClaimed = "claimed"
	// CodeUnverified: raising an unverified server's net speed.
	CodeUnverified = "unverified"
	// CodeUnverifiedCap: the account has MaxUnverified servers and claims
	// waiting for verification.
	CodeUnverifiedCap = "unverified_cap"
)

// FieldError is a refusal the user can fix in one form field. Its Error
// text is plain words for the user, to show beside the field.
type FieldError struct {
	Name string // the form field (Field* constants)
	Code string
	Msg  string
}

func (e *FieldError) Error() string { return e.Msg }

// Field names the form field the refusal belongs beside.
func (e *FieldError) Field() string { return e.Name }

func fieldErr(field, code, format string, a ...any) error {
	return &FieldError{Name: field, Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Netspeeds is the pool's menu of net speeds in kbit/s (POOL.md); 0 means
// monitored but never in the DNS.
var Netspeeds = []int64{0, 512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000,
	1000000, 1500000, 2000000, 3000000}

// DefaultNetspeed is a new server's net speed unless the owner picks one
// (the pool's 10 Mbit, not in the menu).
const DefaultNetspeed = 10000

// Checker asks a server for the time at registration and returns its
// stratum, or an error when it does not answer usably.
type Checker func(ctx context.Context, ip netip.Addr) (stratum int, err error)

// Config is the registry's behaviour.
type Config struct {
	// AllowPrivate admits private, loopback and other non-public
	// addresses (a local development pool only).
	AllowPrivate bool
	// Check is the NTP check; nil uses NTPCheck with port NTPPort.
	Check   Checker
	NTPPort uint16 // 123
	// CheckTimeout bounds each of the check's two queries (2s).
	CheckTimeout time.Duration
	// MinStratum..MaxStratum (1..5) is accepted at registration.
	MinStratum, MaxStratum int
	// GeoIP locates new servers; nil leaves the country empty.
	GeoIP *geoip2.Reader
	// Resolver looks up a hostname's addresses; nil uses net.DefaultResolver.
	Resolver Resolver
	// LookupTimeout bounds a hostname lookup (5s).
	LookupTimeout time.Duration
	// VerifyTTL is how long a verification token works (72h, the pool's).
	VerifyTTL time.Duration
	// OnChange is told about every server added or changed.
	OnChange func(serverID int64)
	Now      func() time.Time
}

// Resolver finds a hostname's addresses (*net.Resolver does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Registry applies the rules to the store.
type Registry struct {
	st  *store.Store
	cfg Config
}

// New returns a registry over st.
func New(st *store.Store, cfg Config) *Registry {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	if cfg.Check == nil {
		cfg.Check = NTPCheck(cfg.NTPPort, cfg.CheckTimeout, cfg.AllowPrivate)
	}
	if cfg.MinStratum == 0 && cfg.MaxStratum == 0 {
		cfg.MinStratum, cfg.MaxStratum = 1, 5
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = 5 * time.Second
	}
	if cfg.VerifyTTL <= 0 {
		cfg.VerifyTTL = 72 * time.Hour
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(int64) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registry{st: st, cfg: cfg}
}

// NTPCheck queries the server as a monitor would, with two samples.
func NTPCheck(port uint16, timeout time.Duration, allowPrivate bool) Checker {
	return func(ctx context.Context, ip netip.Addr) (int, error) {
		p, err := probe.New(probe.Options{Samples: 2, Spacing: 200 * time.Millisecond, Timeout: timeout,
			Port: port, AllowPrivate: allowPrivate})
		if err != nil {
			return 0, err
		}
		res, _, err := p.Probe(ctx, ip)
		switch {
		case err != nil:
			return 0, err
		case res.NoResponse:
			return 0, errors.New("no response")
		case res.Error != "":
			return res.Stratum, errors.New(res.Error)
		}
		return res.Stratum, nil
	}
}

// Input is what an owner submits to add a server.
type Input struct {
	// Address is an IPv4 or IPv6 address, or a hostname whose A and AAAA
	// records each become a server.
	Address string
	// Netspeed from Netspeeds; nil means DefaultNetspeed.
	Netspeed *int64
	// Country overrides GeoIP ("" keeps GeoIP's).
	Country string
	// Verified vouches for the owner, for callers that know it (dev's demo
	// servers, tests): the server starts verified, at any net speed, and
	// the cap on unverified servers does not apply. The web site never
	// sets it.
	Verified bool
}

// ParseAddress reads an IPv4 or IPv6 address and applies the address rules.
func (r *Registry) ParseAddress(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fieldErr(FieldAddress, CodeInvalid, "%q is not an IPv4 or IPv6 address", s)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsMulticast() || (ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return netip.Addr{}, fieldErr(FieldAddress, CodeNotPublic, "%s is not a unicast address", ip)
	}
	if !r.cfg.AllowPrivate {
		if err := netclass.Check(ip); err != nil {
			_, why, _ := strings.Cut(err.Error(), ": ")
			return netip.Addr{}, fieldErr(FieldAddress, CodeNotPublic, "only public addresses can join the pool: %s", why)
		}
	}
	return ip, nil
}

// ValidNetspeed reports whether v is on the menu.
func ValidNetspeed(v int64) bool { return slices.Contains(Netspeeds, v) }

func checkCountry(cc string) (string, error) {
	cc = strings.ToLower(strings.TrimSpace(cc))
	if cc != "" && !record.ValidCountry(cc) {
		return "", fieldErr(FieldCountry, CodeInvalid, "%q is not a country code the pool knows", cc)
	}
	return cc, nil
}

// Register adds one server, by IP address, for accountID (0: no owner)
// after every check; Add does the same for hostnames. An address another
// account holds gives a pending claim and a FieldError with CodeClaimed.
func (r *Registry) Register(ctx context.Context, accountID int64, in Input) (store.Server, error) {
	if _, err := netip.ParseAddr(strings.TrimSpace(in.Address)); err != nil {
		return store.Server{}, fieldErr(FieldAddress, CodeInvalid, "%q is not an IPv4 or IPv6 address", in.Address)
	}
	added, err := r.Add(ctx, accountID, in)
	if err != nil {
		return store.Server{}, err
	}
	a := added[0]
	if a.Err == nil && a.Claim.ID != 0 {
		return store.Server{}, fieldErr(FieldAddress, CodeClaimed, "%s", a.Message())
	}
	return a.Server, a.Err
}

// Added is what became of one address of an Add: a server, a pending
// claim on an address another account holds, or a refusal.
type Added struct {
	IP     netip.Addr
	Server store.Server // ID 0 unless the address became a server
	Claim  store.Claim  // ID 0 unless the address became a claim
	Err    error        // the refusal, a *FieldError or a store failure
}

// Message says what happened, in words for the owner.
func (a Added) Message() string {
	switch {
	case a.Err != nil:
		return a.Err.Error()
	case a.Claim.ID != 0:
		return fmt.Sprintf("%s is held by another account: it becomes yours once you verify it from the server itself", a.IP)
	}
	return fmt.Sprintf("%s was added", a.IP)
}

// MaxHostAddresses bounds how many of a hostname's addresses one Add
// checks.
const MaxHostAddresses = 8

// Add registers the server at in.Address for accountID: an IP address, or
// a hostname whose A and AAAA records each become a server. Every address
// goes through the checks on its own, so one refusal does not stop the
// others. The error is for the whole input (net speed, country, a hostname
// without addresses); a refusal of one address is in its Added.
func (r *Registry) Add(ctx context.Context, accountID int64, in Input) ([]Added, error) {
	speed := int64(DefaultNetspeed)
	if in.Netspeed != nil {
		if !ValidNetspeed(*in.Netspeed) {
			return nil, fieldErr(FieldNetspeed, CodeInvalid, "%d kbit/s is not one of the offered net speeds", *in.Netspeed)
		}
		speed = *in.Netspeed
	}
	if !in.Verified && speed > DefaultNetspeed {
		return nil, fieldErr(FieldNetspeed, CodeUnverified,
			"a new server starts at %s or less; verify it to raise its net speed", netspeedText(DefaultNetspeed))
	}
	override, err := checkCountry(in.Country)
	if err != nil {
		return nil, err
	}
	ips, err := r.addresses(ctx, in.Address)
	if err != nil {
		return nil, err
	}
	out := make([]Added, 0, len(ips))
	for _, ip := range ips {
		a := Added{IP: ip}
		a.Server, a.Claim, a.Err = r.addOne(ctx, accountID, ip, speed, override, in.Verified)
		out = append(out, a)
	}
	return out, nil
}

// addresses is the one address s names, or the addresses its name
// resolves to (A and AAAA, at most MaxHostAddresses).
func (r *Registry) addresses(ctx context.Context, s string) ([]netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(s); err == nil {
		if ip.Zone() != "" {
			return nil, fieldErr(FieldAddress, CodeInvalid, "%q is not an IPv4 or IPv6 address", s)
		}
		return []netip.Addr{ip}, nil
	}
	host := strings.TrimSuffix(strings.ToLower(s), ".")
	if !validHostname(host) {
		return nil, fieldErr(FieldAddress, CodeInvalid, "%q is not an IPv4 or IPv6 address or a hostname", s)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.LookupTimeout)
	defer cancel()
	found, err := r.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	var ips []netip.Addr
	for _, ip := range found {
		ip = ip.Unmap()
		if !slices.Contains(ips, ip) {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		why := "no A or AAAA records"
		if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && !dnsErr.IsNotFound {
			why = "the lookup failed: " + dnsErr.Err
		}
		return nil, fieldErr(FieldAddress, CodeNoAddress, "%s has %s", host, why)
	}
	return ips[:min(len(ips), MaxHostAddresses)], nil
}

// validHostname accepts DNS names of letters, digits and hyphens with at
// least two labels.
func validHostname(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// addOne applies the rules to one address. An address its owner holds
// (live, or scheduled for deletion) stays theirs: another account gets a
// claim that verification from the address turns into its server.
func (r *Registry) addOne(ctx context.Context, accountID int64, ip netip.Addr, speed int64, override string, verified bool) (store.Server, store.Claim, error) {
	ip, err := r.ParseAddress(ip.String())
	if err != nil {
		return store.Server{}, store.Claim{}, err
	}
	if err := r.underCap(ctx, r.st.CountUnverified, accountID, verified); err != nil {
		return store.Server{}, store.Claim{}, err
	}
	old, err := r.st.ServerByIP(ctx, ip)
	switch {
	case err == nil && old.AccountID == accountID && old.DeletionOn.IsZero(),
		err == nil && old.AccountID != accountID && accountID == 0:
		return store.Server{}, store.Claim{}, fieldErr(FieldAddress, CodeRegistered, "%s is already in the pool", ip)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Server{}, store.Claim{}, err
	}
	stratum, err := r.cfg.Check(ctx, ip)
	if err != nil {
		return store.Server{}, store.Claim{}, fieldErr(FieldAddress, CodeNoNTP, "%s did not answer an NTP query (%v)", ip, err)
	}
	if stratum < r.cfg.MinStratum || stratum > r.cfg.MaxStratum {
		return store.Server{}, store.Claim{}, fieldErr(FieldAddress, CodeStratum, "%s answers with stratum %d; the pool takes stratum %d to %d",
			ip, stratum, r.cfg.MinStratum, r.cfg.MaxStratum)
	}
	now := r.cfg.Now()
	s := store.Server{IP: ip, AccountID: accountID, Netspeed: speed, Country: r.country(ip),
		CountryOverride: override, Stratum: stratum, InPool: true, CreatedAt: now}
	if verified {
		s.VerifiedAt = now
	}
	var claim store.Claim
	old = store.Server{}
	err = r.st.InTx(ctx, func(tx *store.Tx) error {
		if err := r.underCap(ctx, tx.CountUnverified, accountID, verified); err != nil {
			return err
		}
		// Read the address again: during the NTP check its owner may have
		// cancelled the deletion, or someone else may have added it.
		cur, err := tx.ServerByIP(ctx, ip)
		switch {
		case err == nil && cur.AccountID != accountID && accountID != 0:
			claim = store.Claim{IP: ip, AccountID: accountID, CountryOverride: override, Stratum: stratum, CreatedAt: now,
				VerifyExpires: now.Add(r.cfg.VerifyTTL)}
			claim.ID, err = tx.CreateClaim(ctx, claim)
			if errors.Is(err, store.ErrConflict) {
				return fieldErr(FieldAddress, CodeClaimed, "you already claimed %s; verify it from the server itself", ip)
			}
			return err
		case err == nil && (cur.DeletionOn.IsZero() || cur.AccountID != accountID):
			return fieldErr(FieldAddress, CodeRegistered, "%s is already in the pool", ip)
		case err == nil:
			// The account's own server, scheduled for deletion: it starts over.
			if err := tx.DeleteServerNow(ctx, cur.ID, now); err != nil {
				return err
			}
			old = cur
		case errors.Is(err, store.ErrNotFound):
		default:
			return err
		}
		id, err := tx.CreateServer(ctx, s)
		if errors.Is(err, store.ErrConflict) {
			return fieldErr(FieldAddress, CodeRegistered, "%s is already in the pool", ip)
		}
		if err != nil {
			return err
		}
		s.ID = id
		return addCandidates(ctx, tx, s, now)
	})
	if err != nil {
		return store.Server{}, store.Claim{}, err
	}
	if claim.ID != 0 {
		return store.Server{}, claim, nil
	}
	if old.ID != 0 {
		r.cfg.OnChange(old.ID)
	}
	r.cfg.OnChange(s.ID)
	s, err = r.st.Server(ctx, s.ID)
	return s, store.Claim{}, err
}

// MaxUnverified is how many unverified servers and pending claims an
// account may have before it can add no more (the pool's 2).
const MaxUnverified = 2

// underCap refuses an account that has MaxUnverified or more servers and
// claims waiting for verification. Verified additions and servers without
// an owner are not capped.
func (r *Registry) underCap(ctx context.Context, count func(context.Context, int64, time.Time) (int, error), accountID int64, verified bool) error {
	if verified || accountID == 0 {
		return nil
	}
	n, err := count(ctx, accountID, r.cfg.Now())
	if err != nil {
		return err
	}
	if n >= MaxUnverified {
		return fieldErr(FieldAddress, CodeUnverifiedCap,
			"your account has %d servers or claims not verified yet; verify them (or delete or withdraw them) before adding more", n)
	}
	return nil
}

// addCandidates gives the new server a candidate row for every monitor of
// its IP version (POOL.md).
func addCandidates(ctx context.Context, tx *store.Tx, s store.Server, now time.Time) error {
	mons, err := tx.Monitors(ctx)
	if err != nil {
		return err
	}
	ver := 4
	if s.IP.Is6() {
		ver = 6
	}
	for _, m := range mons {
		if !m.Watches(ver) {
			continue
		}
		if _, err := tx.AddMonitorServer(ctx, m.ID, s.ID, store.PairCandidate, now); err != nil {
			return err
		}
	}
	return nil
}

// country is GeoIP's lower-case country code for ip, "" when unknown.
func (r *Registry) country(ip netip.Addr) string {
	if r.cfg.GeoIP == nil {
		return ""
	}
	rec, err := r.cfg.GeoIP.Country(ip)
	if err != nil || rec == nil {
		return ""
	}
	cc := strings.ToLower(rec.Country.ISOCode)
	if !record.ValidCountry(cc) {
		return ""
	}
	return cc
}
