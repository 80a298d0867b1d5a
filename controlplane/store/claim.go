package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// Claim is an account's request for an address another account (or no
// account) holds. It becomes the account's server only when a request from
// the address presents its token; until then the holder keeps the server.
type Claim struct {
	ID              int64
	IP              netip.Addr
	AccountID       int64
	CountryOverride string
	Stratum         int // what the NTP check saw when the claim was made
	CreatedAt       time.Time
	// VerifyExpires is when the claim lapses unless verified: when its
	// current token expires, or before any token was issued, the token
	// lifetime after it was made. A lapsed claim stops counting toward the
	// unverified cap and the retention job deletes it.
	VerifyExpires time.Time
}

// CreateClaim adds a claim, lapsing at c.VerifyExpires (zero: lapsed from
// the start); the same account claiming the same address twice gives
// ErrConflict.
func (q q) CreateClaim(ctx context.Context, c Claim) (int64, error) {
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO server_claims (ip, account_id, country_override, stratum, created_at, verify_expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		c.IP.Unmap().String(), c.AccountID, c.CountryOverride, c.Stratum, c.CreatedAt.UnixMilli(), ms(c.VerifyExpires)).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: claim %s for account %d: %w", c.IP, c.AccountID, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: claim %s for account %d: %w", c.IP, c.AccountID, err)
	}
	return id, nil
}

const claimCols = `id, ip, account_id, country_override, stratum, created_at, verify_expires_at`

func scanClaim(row rowScanner) (Claim, error) {
	var c Claim
	var ip string
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&c.ID, &ip, &c.AccountID, &c.CountryOverride, &c.Stratum, &created, &expires); err != nil {
		return Claim{}, err
	}
	var err error
	if c.IP, err = netip.ParseAddr(ip); err != nil {
		return Claim{}, fmt.Errorf("bad stored ip %q: %w", ip, err)
	}
	c.CreatedAt, c.VerifyExpires = time.UnixMilli(created), fromMS(expires)
	return c, nil
}

// AccountClaims lists an account's pending claims, by id.
func (q q) AccountClaims(ctx context.Context, accountID int64) ([]Claim, error) {
	return queryAll(ctx, q, fmt.Sprintf("claims of account %d", accountID), scanClaim,
		`SELECT `+claimCols+` FROM server_claims WHERE account_id = ? ORDER BY id`, accountID)
}

// AccountClaim returns claim id only if it is accountID's.
func (q q) AccountClaim(ctx context.Context, accountID, id int64) (Claim, error) {
	c, err := scanClaim(q.x.QueryRowContext(ctx,
		`SELECT `+claimCols+` FROM server_claims WHERE id = ? AND account_id = ?`, id, accountID))
	if err != nil {
		return Claim{}, notFound(fmt.Sprintf("claim %d of account %d", id, accountID), err)
	}
	return c, nil
}

// SetClaimVerifyToken stores the hash of a new token for an account's
// claim; the claim now lapses when the token expires.
func (q q) SetClaimVerifyToken(ctx context.Context, accountID, id int64, tokenHash string, expires time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("set verification token of claim %d", id),
		`UPDATE server_claims SET verify_token_hash = ?, verify_expires_at = ? WHERE id = ? AND account_id = ?`,
		tokenHash, expires.UnixMilli(), id, accountID)
}

// ClaimByVerifyToken returns the claim whose unexpired token has this hash.
func (q q) ClaimByVerifyToken(ctx context.Context, tokenHash string, now time.Time) (Claim, error) {
	c, err := scanClaim(q.x.QueryRowContext(ctx, `SELECT `+claimCols+` FROM server_claims
		WHERE verify_token_hash = ? AND verify_expires_at > ?`, tokenHash, now.UnixMilli()))
	if err != nil {
		return Claim{}, notFound("claim by verification token", err)
	}
	return c, nil
}

// DeleteClaim removes an account's claim (withdrawn, or fulfilled).
func (q q) DeleteClaim(ctx context.Context, accountID, id int64) error {
	return q.execOne(ctx, fmt.Sprintf("delete claim %d", id),
		`DELETE FROM server_claims WHERE id = ? AND account_id = ?`, id, accountID)
}

// DeleteLapsedClaims removes the claims whose token (or, without one, the
// claim itself) expired at or before now, and claims from before claims
// lapsed, which have no expiry. It returns how many it removed.
func (q q) DeleteLapsedClaims(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, `DELETE FROM server_claims
		WHERE verify_expires_at IS NULL OR verify_expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: delete lapsed claims: %w", err)
	}
	return res.RowsAffected()
}
