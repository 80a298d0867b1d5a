package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Monitor global states (POOL.md): only active and testing monitors fetch
// work and submit results.
const (
	MonitorPending = "pending"
	MonitorTesting = "testing"
	MonitorActive  = "active"
	MonitorPaused  = "paused"
	MonitorDeleted = "deleted"
)

// Monitor is one monitoring agent.
type Monitor struct {
	ID       int64
	Name     string
	Location string
	// IP4 and IP6 are the addresses it probes from (invalid: none
	// registered); V4 and V6 say which servers it watches. A monitor with
	// an address watches that family unless told otherwise.
	IP4, IP6    netip.Addr
	V4, V6      bool
	BehindNAT   bool       // the API accepts it from any address
	SeenIP      netip.Addr // where it last called the API from
	TokenHash   string
	State       string
	AccountID   int64 // 0: run by the pool operator
	LastBatchID string
	LastSeen    time.Time
	CreatedAt   time.Time
}

// HashToken is how bearer tokens are stored: SHA-256, hex. Tokens are
// random 128-bit+ strings, so a slow hash adds nothing.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateMonitor adds a monitor; m.TokenHash must be set (HashToken). A name
// already in use gives ErrConflict.
func (q q) CreateMonitor(ctx context.Context, m Monitor) (int64, error) {
	if m.State == "" {
		m.State = MonitorPending
	}
	if !m.V4 && !m.V6 {
		m.V4, m.V6 = m.IP4.IsValid() || !m.IP6.IsValid(), m.IP6.IsValid()
	}
	if err := m.checkAddrs(); err != nil {
		return 0, fmt.Errorf("store: create monitor %s: %w", m.Name, err)
	}
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO monitors
		(name, location, ip4, ip6, v4, v6, behind_nat, token_hash, state, account_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.Name, m.Location, addrText(m.IP4), addrText(m.IP6), b2i(m.V4), b2i(m.V6), b2i(m.BehindNAT),
		m.TokenHash, m.State, nullID(m.AccountID), time.Now().UnixMilli()).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create monitor %s: %w", m.Name, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create monitor %s: %w", m.Name, err)
	}
	return id, nil
}

// ErrBadMonitorAddr: an address of the wrong family, or not a unicast one.
var ErrBadMonitorAddr = errors.New("monitor address must be a unicast address of its family")

func (m *Monitor) checkAddrs() error {
	m.IP4, m.IP6 = m.IP4.Unmap(), m.IP6.Unmap()
	if m.IP4.IsValid() && (!m.IP4.Is4() || m.IP4.IsUnspecified() || m.IP4.IsMulticast()) {
		return fmt.Errorf("%w: %s as IPv4", ErrBadMonitorAddr, m.IP4)
	}
	if m.IP6.IsValid() && (!m.IP6.Is6() || m.IP6.IsUnspecified() || m.IP6.IsMulticast()) {
		return fmt.Errorf("%w: %s as IPv6", ErrBadMonitorAddr, m.IP6)
	}
	return nil
}

// Watches reports whether the monitor is handed servers of IP version ver.
func (m Monitor) Watches(ver int) bool { return (ver == 4 && m.V4) || (ver == 6 && m.V6) }

// Addr returns the monitor's registered address of IP version ver (invalid
// when none).
func (m Monitor) Addr(ver int) netip.Addr {
	if ver == 6 {
		return m.IP6
	}
	return m.IP4
}

// Registered reports whether ip is one of the monitor's addresses. A monitor
// without any address (created by an operator for a local pool) has none to
// check against and matches every ip; an unknown (invalid) ip matches no
// registered address, not the family the monitor left empty.
func (m Monitor) Registered(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !m.IP4.IsValid() && !m.IP6.IsValid() {
		return true
	}
	return ip.IsValid() && (ip == m.IP4 || ip == m.IP6)
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

func parseAddrText(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad stored ip %q: %w", s, err)
	}
	return a, nil
}

const monitorCols = `id, name, location, ip4, ip6, v4, v6, behind_nat, seen_ip, token_hash, state, account_id, last_batch_id, last_seen, created_at`

func scanMonitor(row rowScanner) (Monitor, error) {
	var m Monitor
	var ip4, ip6, seenIP string
	var v4, v6, nat int
	var acct, seen, created sql.NullInt64
	err := row.Scan(&m.ID, &m.Name, &m.Location, &ip4, &ip6, &v4, &v6, &nat, &seenIP, &m.TokenHash, &m.State, &acct,
		&m.LastBatchID, &seen, &created)
	if err != nil {
		return Monitor{}, err
	}
	if m.IP4, err = parseAddrText(ip4); err == nil {
		if m.IP6, err = parseAddrText(ip6); err == nil {
			m.SeenIP, err = parseAddrText(seenIP)
		}
	}
	if err != nil {
		return Monitor{}, err
	}
	m.V4, m.V6, m.BehindNAT = v4 != 0, v6 != 0, nat != 0
	m.AccountID = acct.Int64
	m.LastSeen, m.CreatedAt = fromMS(seen), fromMS(created)
	return m, nil
}

// Monitor returns the monitor with id.
func (q q) Monitor(ctx context.Context, id int64) (Monitor, error) {
	m, err := scanMonitor(q.x.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors WHERE id = ?`, id))
	if err != nil {
		return Monitor{}, notFound(fmt.Sprintf("monitor %d", id), err)
	}
	return m, nil
}

// MonitorByTokenHash finds the monitor a bearer token belongs to.
func (q q) MonitorByTokenHash(ctx context.Context, hash string) (Monitor, error) {
	m, err := scanMonitor(q.x.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors WHERE token_hash = ?`, hash))
	if err != nil {
		return Monitor{}, notFound("monitor by token", err)
	}
	return m, nil
}

// MonitorByName returns the monitor called name.
func (q q) MonitorByName(ctx context.Context, name string) (Monitor, error) {
	m, err := scanMonitor(q.x.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors WHERE name = ?`, name))
	if err != nil {
		return Monitor{}, notFound("monitor "+name, err)
	}
	return m, nil
}

// Monitors lists every monitor that is not deleted, by id.
func (q q) Monitors(ctx context.Context) ([]Monitor, error) {
	return queryAll(ctx, q, "list monitors", scanMonitor,
		`SELECT `+monitorCols+` FROM monitors WHERE state <> ? ORDER BY id`, MonitorDeleted)
}

// SetMonitorState changes a monitor's global state.
func (q q) SetMonitorState(ctx context.Context, id int64, state string) error {
	return q.execOne(ctx, fmt.Sprintf("set state of monitor %d", id),
		`UPDATE monitors SET state = ? WHERE id = ?`, state, id)
}

// SetMonitorToken replaces a monitor's token hash (token rotation).
func (q q) SetMonitorToken(ctx context.Context, id int64, hash string) error {
	return q.execOne(ctx, fmt.Sprintf("set token of monitor %d", id),
		`UPDATE monitors SET token_hash = ? WHERE id = ?`, hash, id)
}

// MonitorsByAccount lists an account's monitors that are not deleted.
func (q q) MonitorsByAccount(ctx context.Context, accountID int64) ([]Monitor, error) {
	return queryAll(ctx, q, fmt.Sprintf("monitors of account %d", accountID), scanMonitor,
		`SELECT `+monitorCols+` FROM monitors WHERE account_id = ? AND state <> ? ORDER BY id`, accountID, MonitorDeleted)
}

// AccountMonitor returns the account's monitor id (ErrNotFound when it is
// another account's).
func (q q) AccountMonitor(ctx context.Context, accountID, id int64) (Monitor, error) {
	m, err := scanMonitor(q.x.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors WHERE id = ? AND account_id = ?`, id, accountID))
	if err != nil {
		return Monitor{}, notFound(fmt.Sprintf("monitor %d of account %d", id, accountID), err)
	}
	return m, nil
}

// SetAccountMonitorToken replaces the token hash of the account's monitor
// id (rotation by its owner).
func (q q) SetAccountMonitorToken(ctx context.Context, accountID, id int64, hash string) error {
	return q.execOne(ctx, fmt.Sprintf("set token of monitor %d of account %d", id, accountID),
		`UPDATE monitors SET token_hash = ? WHERE id = ? AND account_id = ? AND state <> ?`, hash, id, accountID, MonitorDeleted)
}

// SetMonitorBehindNAT lets the monitor call the API from any address.
func (q q) SetMonitorBehindNAT(ctx context.Context, id int64, nat bool) error {
	return q.execOne(ctx, fmt.Sprintf("set nat of monitor %d", id),
		`UPDATE monitors SET behind_nat = ? WHERE id = ?`, b2i(nat), id)
}

// TouchMonitor records an authenticated call from ip at t: last_seen on
// every call, not only when results arrive. It never moves last_seen back.
func (q q) TouchMonitor(ctx context.Context, id int64, ip netip.Addr, t time.Time) error {
	_, err := q.x.ExecContext(ctx, `UPDATE monitors SET last_seen = ?, seen_ip = ?
		WHERE id = ? AND (last_seen IS NULL OR last_seen <= ?)`, t.UnixMilli(), addrText(ip), id, t.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: touch monitor %d: %w", id, err)
	}
	return nil
}

// MonitorTouch is one authenticated call of a monitor: when, from where.
type MonitorTouch struct {
	MonitorID int64
	IP        netip.Addr
	Time      time.Time
}

// TouchMonitors records calls as TouchMonitor does, one per monitor (the
// monitor API records a group commit's calls in its transaction).
func (q q) TouchMonitors(ctx context.Context, ts []MonitorTouch) error {
	for _, t := range ts {
		if err := q.TouchMonitor(ctx, t.MonitorID, t.IP, t.Time); err != nil {
			return err
		}
	}
	return nil
}

// MonitorHealth is one monitor's record over the health window, for the
// admin pages.
type MonitorHealth struct {
	MonitorID int64
	Probes    int64 // probes in the window
	AvgStep   float64
	AvgRTT    float64 // seconds; 0 when no probe had one
}

// MonitorHealths sums each monitor's hourly pair health over the window
// ending at now (the buckets selection reads, not the history, which would
// be 17 million rows a day in a large pool). Monitors without probes are
// absent.
func (q q) MonitorHealths(ctx context.Context, now time.Time, window time.Duration) (map[int64]MonitorHealth, error) {
	rows, err := queryAll(ctx, q, "monitor health", func(r rowScanner) (h MonitorHealth, err error) {
		var step, rtt float64
		var rttN int64
		err = r.Scan(&h.MonitorID, &h.Probes, &step, &rtt, &rttN)
		if h.Probes > 0 {
			h.AvgStep = step / float64(h.Probes)
		}
		if rttN > 0 {
			h.AvgRTT = rtt / float64(rttN)
		}
		return h, err
	}, `SELECT monitor_id, SUM(points), SUM(step_sum), SUM(rtt_sum), SUM(rtt_n) FROM pair_health_hours
		WHERE hour >= ? GROUP BY monitor_id HAVING SUM(points) > 0`, healthWindowStart(now, window))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]MonitorHealth, len(rows))
	for _, h := range rows {
		out[h.MonitorID] = h
	}
	return out, nil
}
