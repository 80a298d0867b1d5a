package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// Server is one registered NTP server.
type Server struct {
	ID        int64
	IP        netip.Addr
	AccountID int64 // 0: no owner (admin-added)
	// Netspeed in kbit/s; 0 means monitored but never published.
	Netspeed        int64
	Country         string // from GeoIP, lower case, "" unknown
	CountryOverride string // the owner's choice, "" none
	Stratum         int
	Score           float64 // overall score
	InPool          bool
	CreatedAt       time.Time
	DeletionOn      time.Time // zero: not scheduled
	DeletedAt       time.Time // zero: live
	LastScoreUpdate time.Time
	// VerifiedAt is when a request from the server's own address proved
	// the account owns it (or an admin said so); zero: unverified.
	VerifiedAt time.Time
}

// Zone is the country the server is published under: the owner's override,
// else the GeoIP country.
func (s Server) Zone() string {
	if s.CountryOverride != "" {
		return s.CountryOverride
	}
	return s.Country
}

// CreateServer adds a live server and returns its id; a live server with
// the same address gives ErrConflict. NetSpeed and InPool are stored as given.
func (q q) CreateServer(ctx context.Context, s Server) (int64, error) {
	ip := s.IP.Unmap()
	ver := 4
	if ip.Is6() {
		ver = 6
	}
	created := s.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO servers
		(ip, ip_version, account_id, netspeed, country, country_override, stratum, score, in_pool, created_at, deletion_on, verified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ip.String(), ver, nullID(s.AccountID), s.Netspeed, s.Country, s.CountryOverride, s.Stratum,
		s.Score, b2i(s.InPool), created.UnixMilli(), ms(s.DeletionOn), ms(s.VerifiedAt)).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create server %s: %w", ip, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create server %s: %w", ip, err)
	}
	return id, nil
}

const serverCols = `id, ip, account_id, netspeed, country, country_override, stratum, score, in_pool,
	created_at, deletion_on, deleted_at, last_score_update, verified_at`

func scanServer(row rowScanner) (Server, error) {
	var s Server
	var ip string
	var acct, created, delOn, delAt, lsu, verified sql.NullInt64
	var inPool int
	err := row.Scan(&s.ID, &ip, &acct, &s.Netspeed, &s.Country, &s.CountryOverride, &s.Stratum, &s.Score,
		&inPool, &created, &delOn, &delAt, &lsu, &verified)
	if err != nil {
		return Server{}, err
	}
	if s.IP, err = netip.ParseAddr(ip); err != nil {
		return Server{}, fmt.Errorf("bad stored ip %q: %w", ip, err)
	}
	s.AccountID = acct.Int64
	s.InPool = inPool != 0
	s.CreatedAt, s.DeletionOn, s.DeletedAt, s.LastScoreUpdate = fromMS(created), fromMS(delOn), fromMS(delAt), fromMS(lsu)
	s.VerifiedAt = fromMS(verified)
	return s, nil
}

func (q q) servers(ctx context.Context, op, where string, args ...any) ([]Server, error) {
	return queryAll(ctx, q, op, scanServer, `SELECT `+serverCols+` FROM servers `+where, args...)
}

// Server returns the server with id (live or deleted).
func (q q) Server(ctx context.Context, id int64) (Server, error) {
	s, err := scanServer(q.x.QueryRowContext(ctx, `SELECT `+serverCols+` FROM servers WHERE id = ?`, id))
	if err != nil {
		return Server{}, notFound(fmt.Sprintf("server %d", id), err)
	}
	return s, nil
}

// ServersByID returns the servers (live or deleted) with these ids; ids
// without a row are absent.
func (q q) ServersByID(ctx context.Context, ids []int64) ([]Server, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return q.servers(ctx, "servers by id", `WHERE id IN (`+placeholders(len(ids))+`)`, args...)
}

// ServerByIP returns the live (not deleted) server with address ip.
func (q q) ServerByIP(ctx context.Context, ip netip.Addr) (Server, error) {
	s, err := scanServer(q.x.QueryRowContext(ctx,
		`SELECT `+serverCols+` FROM servers WHERE ip = ? AND deleted_at IS NULL`, ip.Unmap().String()))
	if err != nil {
		return Server{}, notFound("server "+ip.String(), err)
	}
	return s, nil
}

// Servers lists every live server, by id.
func (q q) Servers(ctx context.Context) ([]Server, error) {
	return q.servers(ctx, "list servers", `WHERE deleted_at IS NULL ORDER BY id`)
}

// ServersByAccount lists an account's live servers, by id.
func (q q) ServersByAccount(ctx context.Context, accountID int64) ([]Server, error) {
	return q.servers(ctx, fmt.Sprintf("servers of account %d", accountID),
		`WHERE account_id = ? AND deleted_at IS NULL ORDER BY id`, accountID)
}

// AccountServer returns server id only if it belongs to accountID (live).
func (q q) AccountServer(ctx context.Context, accountID, id int64) (Server, error) {
	s, err := scanServer(q.x.QueryRowContext(ctx,
		`SELECT `+serverCols+` FROM servers WHERE id = ? AND account_id = ? AND deleted_at IS NULL`, id, accountID))
	if err != nil {
		return Server{}, notFound(fmt.Sprintf("server %d of account %d", id, accountID), err)
	}
	return s, nil
}

// SetServerNetspeed changes an account's server's net speed. accountID 0
// means any owner (admin).
func (q q) SetServerNetspeed(ctx context.Context, accountID, id, netspeed int64) error {
	return q.execOne(ctx, fmt.Sprintf("set netspeed of server %d", id),
		`UPDATE servers SET netspeed = ? WHERE id = ? AND (? = 0 OR account_id = ?) AND deleted_at IS NULL`,
		netspeed, id, accountID, accountID)
}

// SetServerCountryOverride sets the owner's country choice ("" clears it).
// accountID 0 means any owner (admin).
func (q q) SetServerCountryOverride(ctx context.Context, accountID, id int64, cc string) error {
	return q.execOne(ctx, fmt.Sprintf("set country of server %d", id),
		`UPDATE servers SET country_override = ? WHERE id = ? AND (? = 0 OR account_id = ?) AND deleted_at IS NULL`,
		cc, id, accountID, accountID)
}

// SetServerDeletion schedules (or, with the zero time, cancels) the
// server's deletion. accountID 0 means any owner (admin and auto-removal).
func (q q) SetServerDeletion(ctx context.Context, accountID, id int64, on time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("schedule deletion of server %d", id),
		`UPDATE servers SET deletion_on = ? WHERE id = ? AND (? = 0 OR account_id = ?) AND deleted_at IS NULL`,
		ms(on), id, accountID, accountID)
}

// SetServerScore stores a new overall score computed at t.
func (q q) SetServerScore(ctx context.Context, id int64, score float64, t time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("set score of server %d", id),
		`UPDATE servers SET score = ?, last_score_update = ? WHERE id = ?`, score, ms(t), id)
}

// SetServerStratum records the stratum a probe or registration saw.
func (q q) SetServerStratum(ctx context.Context, id int64, stratum int) error {
	return q.execOne(ctx, fmt.Sprintf("set stratum of server %d", id),
		`UPDATE servers SET stratum = ? WHERE id = ?`, stratum, id)
}

// DeleteServerNow marks a live server deleted at t (its address can then be
// registered again); history stays.
func (q q) DeleteServerNow(ctx context.Context, id int64, t time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("delete server %d", id),
		`UPDATE servers SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, ms(t), id)
}

// DeleteDueServers marks deleted every live server whose deletion date is
// at or before now and returns their ids.
func (q q) DeleteDueServers(ctx context.Context, now time.Time) ([]int64, error) {
	return queryAll(ctx, q, "delete due servers", func(r rowScanner) (id int64, err error) { return id, r.Scan(&id) },
		`UPDATE servers SET deleted_at = ?
		WHERE deleted_at IS NULL AND deletion_on IS NOT NULL AND deletion_on <= ? RETURNING id`,
		now.UnixMilli(), now.UnixMilli())
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Server listings that only the web UI needs.

// AdminServers lists live servers for the admin page, newest first. A
// non-empty ipPrefix keeps servers whose address starts with it, in any
// case (addresses are stored in lower case; PostgreSQL's LIKE, unlike
// SQLite's, tells cases apart).
func (q q) AdminServers(ctx context.Context, ipPrefix string, limit int) ([]Server, error) {
	return q.servers(ctx, "admin server list",
		`WHERE deleted_at IS NULL AND (? = '' OR ip LIKE lower(?) || '%') ORDER BY id DESC LIMIT ?`, ipPrefix, ipPrefix, limit)
}

// CountServersByAccount counts an account's live servers.
func (q q) CountServersByAccount(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := q.x.QueryRowContext(ctx, `SELECT COUNT(*) FROM servers WHERE account_id = ? AND deleted_at IS NULL`, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count servers of account %d: %w", accountID, err)
	}
	return n, nil
}

// Ownership: verification tokens and the unverified cap.

// SetServerVerifyToken stores the hash of a new verification token for an
// account's unverified live server, replacing any earlier one.
func (q q) SetServerVerifyToken(ctx context.Context, accountID, id int64, tokenHash string, expires time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("set verification token of server %d", id),
		`UPDATE servers SET verify_token_hash = ?, verify_expires_at = ?
		WHERE id = ? AND account_id = ? AND deleted_at IS NULL AND verified_at IS NULL`,
		tokenHash, expires.UnixMilli(), id, accountID)
}

// ServerByVerifyToken returns the live server whose unexpired verification
// token has this hash.
func (q q) ServerByVerifyToken(ctx context.Context, tokenHash string, now time.Time) (Server, error) {
	s, err := scanServer(q.x.QueryRowContext(ctx, `SELECT `+serverCols+` FROM servers
		WHERE verify_token_hash = ? AND verify_expires_at > ? AND deleted_at IS NULL`, tokenHash, now.UnixMilli()))
	if err != nil {
		return Server{}, notFound("server by verification token", err)
	}
	return s, nil
}

// MarkServerVerified records that the server's owner is proven (a request
// from its address, or an admin) and voids its token.
func (q q) MarkServerVerified(ctx context.Context, id int64, t time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("verify server %d", id),
		`UPDATE servers SET verified_at = ?, verify_token_hash = NULL, verify_expires_at = NULL
		WHERE id = ? AND deleted_at IS NULL`, t.UnixMilli(), id)
}

// CountUnverified counts what an account has waiting for verification at
// now: its live unverified servers and its claims that have not lapsed
// (the pool's cap is 2).
func (q q) CountUnverified(ctx context.Context, accountID int64, now time.Time) (int, error) {
	var n int
	err := q.x.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM servers WHERE account_id = ? AND deleted_at IS NULL AND verified_at IS NULL) +
		(SELECT COUNT(*) FROM server_claims WHERE account_id = ? AND verify_expires_at > ?)`,
		accountID, accountID, now.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count unverified of account %d: %w", accountID, err)
	}
	return n, nil
}
