package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Parameters of the score data, as the pool offers them.
const (
	logDefaultLimit = 100
	logMaxLimit     = 10000
	logWindow       = 4 * 24 * time.Hour // without since: the last 4 days
)

// errBadParam is a parameter the request got wrong; its text is shown.
var errBadParam = errors.New("bad parameter")

// scoreServer looks up the server of /scores/<ip>: the live one, else the
// latest deleted one. A bogus address is errBadParam, an unknown one
// store.ErrNotFound.
func (s *Server) scoreServerByIP(r *http.Request) (store.Server, error) {
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil || ip.Zone() != "" {
		return store.Server{}, fmt.Errorf("%w: %q is not an IP address", errBadParam, r.PathValue("ip"))
	}
	return s.st.LatestServerByIP(r.Context(), ip.Unmap().String())
}

// logQuery reads limit, monitor and since for one server.
func (s *Server) logQuery(r *http.Request, serverID int64) (store.LogQuery, error) {
	q := r.URL.Query()
	lq := store.LogQuery{ServerID: serverID, Limit: logDefaultLimit, Monitor: store.LogOverall}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return lq, fmt.Errorf("%w: limit must be a positive number", errBadParam)
		}
		lq.Limit = min(n, logMaxLimit)
	}
	switch m := strings.TrimSpace(q.Get("monitor")); {
	case m == "":
	case m == "*":
		lq.Monitor = store.LogAllMonitor
	default:
		if id, err := strconv.ParseInt(m, 10, 64); err == nil && id > 0 {
			lq.Monitor = id
			break
		}
		mon, err := s.st.MonitorByName(r.Context(), m)
		if errors.Is(err, store.ErrNotFound) {
			return lq, fmt.Errorf("%w: no monitor %q", errBadParam, m)
		}
		if err != nil {
			return lq, err
		}
		lq.Monitor = mon.ID
	}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return lq, fmt.Errorf("%w: since must be seconds since the epoch", errBadParam)
		}
		lq.Since = time.Unix(n, 0)
	} else {
		lq.After = s.now().Add(-logWindow)
	}
	return lq, nil
}

// fmtNum prints a number with 9 decimals, trailing zeros trimmed.
func fmtNum(v float64) string {
	s := strconv.FormatFloat(v, 'f', 9, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// serverState describes a server's place in the pool for people.
func (s *Server) serverState(srv store.Server) string {
	switch {
	case !srv.DeletedAt.IsZero():
		return "deleted"
	case !srv.InPool:
		return "not in the pool"
	case srv.Netspeed == 0:
		return "monitoring only"
	case s.cfg.Score.InDNS(s.now(), census.ScoreServer(srv)):
		return "active"
	case !srv.DeletionOn.IsZero() && srv.DeletionOn.Sub(s.now()) <= s.cfg.Score.DeletionMargin:
		return "leaving (deletion scheduled)"
	}
	return "monitored, not in the DNS (score below " + strconv.FormatFloat(s.cfg.Score.MinScore, 'f', -1, 64) + ")"
}
