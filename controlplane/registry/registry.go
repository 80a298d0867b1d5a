// Package registry holds the rules for adding, changing and removing NTP
// servers: what address may join, the NTP check at registration, the
// country from GeoIP with the owner's override, the net speed menu and
// deletion scheduling. Refusals are *FieldError values naming the form
// field they belong beside.
//
// # Usage
//
//	reg := registry.New(st, registry.Config{GeoIP: geo})
//	srv, err := reg.Register(ctx, accountID, registry.Input{Address: "192.0.2.1", Netspeed: 1500})
//	if fe, ok := errors.AsType[*registry.FieldError](err); ok { /* show fe.Error() beside fe.Field() */ }
package registry

import (
	"context"
	"errors"
	"fmt"
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
)

// Codes of FieldError, stable for tests and translations.
const (
	CodeInvalid    = "invalid"
	CodeNotPublic  = "not_public"
	CodeRegistered = "registered"
	CodeNoNTP      = "no_ntp"
	CodeStratum    = "stratum"
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
	// OnChange is told about every server added or changed.
	OnChange func(serverID int64)
	Now      func() time.Time
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
	Address string
	// Netspeed from Netspeeds; nil means DefaultNetspeed.
	Netspeed *int64
	// Country overrides GeoIP ("" keeps GeoIP's).
	Country string
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

// Register adds a server for accountID (0: no owner) after every check. An
// address registered before and deleted, or scheduled for deletion, starts
// over at score 0.
func (r *Registry) Register(ctx context.Context, accountID int64, in Input) (store.Server, error) {
	ip, err := r.ParseAddress(in.Address)
	if err != nil {
		return store.Server{}, err
	}
	speed := int64(DefaultNetspeed)
	if in.Netspeed != nil {
		if !ValidNetspeed(*in.Netspeed) {
			return store.Server{}, fieldErr(FieldNetspeed, CodeInvalid, "%d kbit/s is not one of the offered net speeds", *in.Netspeed)
		}
		speed = *in.Netspeed
	}
	override, err := checkCountry(in.Country)
	if err != nil {
		return store.Server{}, err
	}
	old, err := r.st.ServerByIP(ctx, ip)
	switch {
	case err == nil && old.DeletionOn.IsZero():
		return store.Server{}, fieldErr(FieldAddress, CodeRegistered, "%s is already in the pool", ip)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Server{}, err
	}
	stratum, err := r.cfg.Check(ctx, ip)
	if err != nil {
		return store.Server{}, fieldErr(FieldAddress, CodeNoNTP, "%s did not answer an NTP query (%v)", ip, err)
	}
	if stratum < r.cfg.MinStratum || stratum > r.cfg.MaxStratum {
		return store.Server{}, fieldErr(FieldAddress, CodeStratum, "%s answers with stratum %d; the pool takes stratum %d to %d",
			ip, stratum, r.cfg.MinStratum, r.cfg.MaxStratum)
	}
	now := r.cfg.Now()
	s := store.Server{IP: ip, AccountID: accountID, Netspeed: speed, Country: r.country(ip),
		CountryOverride: override, Stratum: stratum, InPool: true, CreatedAt: now}
	err = r.st.InTx(ctx, func(tx *store.Tx) error {
		// Read the address again: during the NTP check its owner may have
		// cancelled the deletion, and that server must stay.
		cur, err := tx.ServerByIP(ctx, ip)
		switch {
		case err == nil && cur.DeletionOn.IsZero():
			return fieldErr(FieldAddress, CodeRegistered, "%s is already in the pool", ip)
		case err == nil:
			if err := tx.DeleteServerNow(ctx, cur.ID, now); err != nil {
				return err
			}
		case errors.Is(err, store.ErrNotFound):
		default:
			return err
		}
		old = cur
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
		return store.Server{}, err
	}
	if old.ID != 0 {
		r.cfg.OnChange(old.ID)
	}
	r.cfg.OnChange(s.ID)
	return r.st.Server(ctx, s.ID)
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

// AddServer registers addr for the account with the default net speed and
// country override cc ("" for GeoIP): the web site's form.
func (r *Registry) AddServer(ctx context.Context, accountID int64, addr, cc string) (int64, error) {
	s, err := r.Register(ctx, accountID, Input{Address: addr, Country: cc})
	return s.ID, err
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
