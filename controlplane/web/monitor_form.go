package web

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// monitorForm is the registration form of a monitor, kept for redisplay.
type monitorForm struct {
	Name, Location, IP4, IP6 string
}

// readMonitorForm checks the registration form: a short name and at least
// one public address, each of its own family.
func (s *Server) readMonitorForm(r *http.Request) (monitorForm, store.Monitor, fieldErrors) {
	f := monitorForm{Name: strings.TrimSpace(r.PostFormValue("name")), Location: strings.TrimSpace(r.PostFormValue("location")),
		IP4: strings.TrimSpace(r.PostFormValue("ip4")), IP6: strings.TrimSpace(r.PostFormValue("ip6"))}
	m := store.Monitor{Name: f.Name, Location: f.Location}
	errs := fieldErrors{}
	if f.Name == "" || len(f.Name) > 64 || strings.ContainsAny(f.Name, " \t\r\n/") {
		errs["name"] = "Use a short name without spaces, e.g. fra1."
	}
	if len(f.Location) > 100 {
		errs["location"] = "Keep the location under 100 characters."
	}
	if f.IP4 != "" {
		ip, err := netip.ParseAddr(f.IP4)
		if m.IP4 = ip.Unmap(); err != nil || !m.IP4.Is4() || s.badMonitorAddr(m.IP4) {
			errs["ip4"] = "Give the public IPv4 address the monitor probes from."
		}
	}
	if f.IP6 != "" {
		ip, err := netip.ParseAddr(f.IP6)
		if m.IP6 = ip; err != nil || !ip.Is6() || ip.Is4In6() || s.badMonitorAddr(ip) {
			errs["ip6"] = "Give the public IPv6 address the monitor probes from."
		}
	}
	if f.IP4 == "" && f.IP6 == "" {
		errs["ip4"] = "Give at least one address: IPv4, IPv6 or both."
	}
	return f, m, errs
}

// badMonitorAddr refuses addresses a monitor cannot probe from: not
// unicast, or (outside local pools) not public.
func (s *Server) badMonitorAddr(ip netip.Addr) bool {
	if ip.IsUnspecified() || ip.IsMulticast() {
		return true
	}
	return !s.cfg.AllowPrivate && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast())
}

// createFormMonitor stores m, read by readMonitorForm, with a new token and
// returns the token (only its hash is stored). It does nothing when the
// form has errors already, and adds one when the name is taken.
func (s *Server) createFormMonitor(ctx context.Context, m store.Monitor, errs fieldErrors) (string, error) {
	if len(errs) > 0 {
		return "", nil
	}
	tok := rand.Text()
	m.TokenHash = store.HashToken(tok)
	_, err := s.st.CreateMonitor(ctx, m)
	if errors.Is(err, store.ErrConflict) {
		errs["name"] = "This name is taken."
		return "", nil
	}
	return tok, err
}
