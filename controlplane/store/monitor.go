package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
	ID          int64
	Name        string
	Location    string
	IP          netip.Addr // the address it probes from; invalid when unknown
	IPVersion   int        // 4 or 6: the servers it watches
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
	if m.IPVersion == 0 {
		m.IPVersion = 4
	}
	ip := ""
	if m.IP.IsValid() {
		ip = m.IP.Unmap().String()
	}
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO monitors
		(name, location, ip, ip_version, token_hash, state, account_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.Name, m.Location, ip, m.IPVersion, m.TokenHash, m.State, nullID(m.AccountID), time.Now().UnixMilli()).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create monitor %s: %w", m.Name, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create monitor %s: %w", m.Name, err)
	}
	return id, nil
}

const monitorCols = `id, name, location, ip, ip_version, token_hash, state, account_id, last_batch_id, last_seen, created_at`

func scanMonitor(row rowScanner) (Monitor, error) {
	var m Monitor
	var ip string
	var acct, seen, created sql.NullInt64
	err := row.Scan(&m.ID, &m.Name, &m.Location, &ip, &m.IPVersion, &m.TokenHash, &m.State, &acct,
		&m.LastBatchID, &seen, &created)
	if err != nil {
		return Monitor{}, err
	}
	if ip != "" {
		if m.IP, err = netip.ParseAddr(ip); err != nil {
			return Monitor{}, fmt.Errorf("bad stored ip %q: %w", ip, err)
		}
	}
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
