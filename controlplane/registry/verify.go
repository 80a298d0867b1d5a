package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Ownership, as in the pool: a server is verified when a request from its
// own address presents a token the owner got on the server's page. Tokens
// are random, stored hashed, work for VerifyTTL, and a new one replaces
// the last.

// ErrUnknownToken is a verification token that matches nothing, or has
// expired.
var ErrUnknownToken = errors.New("registry: unknown or expired verification token")

// WrongSourceError refuses a verification sent from another address than
// the server's: nothing changes, and the token keeps working.
type WrongSourceError struct {
	From, Want netip.Addr
}

func (e *WrongSourceError) Error() string {
	return fmt.Sprintf("this request came from %s, not from the server's address %s: run the command on the server itself", e.From, e.Want)
}

// Token is a new verification token, shown to the owner once.
type Token struct {
	Token   string
	IP      netip.Addr
	Expires time.Time
}

func (r *Registry) newToken() (tok, hash string, expires time.Time) {
	tok = rand.Text() + rand.Text()
	return tok, store.HashToken(tok), r.cfg.Now().Add(r.cfg.VerifyTTL)
}

// NewServerToken issues a verification token for an account's unverified
// server; a verified one gives a FieldError.
func (r *Registry) NewServerToken(ctx context.Context, accountID, serverID int64) (Token, error) {
	s, err := r.st.AccountServer(ctx, accountID, serverID)
	if err != nil {
		return Token{}, err
	}
	if !s.VerifiedAt.IsZero() {
		return Token{}, fieldErr(FieldVerify, CodeInvalid, "%s is already verified", s.IP)
	}
	tok, hash, exp := r.newToken()
	if err := r.st.SetServerVerifyToken(ctx, accountID, serverID, hash, exp); err != nil {
		return Token{}, err
	}
	return Token{Token: tok, IP: s.IP, Expires: exp}, nil
}

// NewClaimToken issues a verification token for an account's claim that
// has not lapsed (a lapsed one is store.ErrNotFound: it waits only for
// deletion, and renewing it would bring it back over the cap).
func (r *Registry) NewClaimToken(ctx context.Context, accountID, claimID int64) (Token, error) {
	c, err := r.st.AccountClaim(ctx, accountID, claimID)
	if err != nil {
		return Token{}, err
	}
	if !c.VerifyExpires.After(r.cfg.Now()) {
		return Token{}, fmt.Errorf("registry: claim %d lapsed: %w", claimID, store.ErrNotFound)
	}
	tok, hash, exp := r.newToken()
	if err := r.st.SetClaimVerifyToken(ctx, accountID, claimID, hash, exp); err != nil {
		return Token{}, err
	}
	return Token{Token: tok, IP: c.IP, Expires: exp}, nil
}

// CancelClaim withdraws an account's claim.
func (r *Registry) CancelClaim(ctx context.Context, accountID, claimID int64) error {
	return r.st.DeleteClaim(ctx, accountID, claimID)
}

// MarkVerified verifies a server on an admin's word.
func (r *Registry) MarkVerified(ctx context.Context, serverID int64) error {
	if err := r.st.MarkServerVerified(ctx, serverID, r.cfg.Now()); err != nil {
		return err
	}
	r.cfg.OnChange(serverID)
	return nil
}

// Verify checks a token presented by a request from address from. The
// token of an unverified server verifies it; the token of a claim moves
// the address to the claiming account: the holder's server is deleted
// (its history stays with it) and a new, verified server starts over at
// score 0. A request from any other address than the server's changes
// nothing (*WrongSourceError).
func (r *Registry) Verify(ctx context.Context, token string, from netip.Addr) (store.Server, error) {
	hash, now := store.HashToken(token), r.cfg.Now()
	from = from.Unmap()
	s, err := r.st.ServerByVerifyToken(ctx, hash, now)
	switch {
	case err == nil:
		if from != s.IP {
			return store.Server{}, &WrongSourceError{From: from, Want: s.IP}
		}
		if err := r.st.MarkServerVerified(ctx, s.ID, now); err != nil {
			return store.Server{}, err
		}
		r.cfg.OnChange(s.ID)
		return r.st.Server(ctx, s.ID)
	case !errors.Is(err, store.ErrNotFound):
		return store.Server{}, err
	}
	c, err := r.st.ClaimByVerifyToken(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return store.Server{}, ErrUnknownToken
	}
	if err != nil {
		return store.Server{}, err
	}
	if from != c.IP {
		return store.Server{}, &WrongSourceError{From: from, Want: c.IP}
	}
	return r.fulfilClaim(ctx, c, now)
}

// fulfilClaim turns a verified claim into the account's server.
func (r *Registry) fulfilClaim(ctx context.Context, c store.Claim, now time.Time) (store.Server, error) {
	s := store.Server{IP: c.IP, AccountID: c.AccountID, Netspeed: DefaultNetspeed, Country: r.country(c.IP),
		CountryOverride: c.CountryOverride, Stratum: c.Stratum, InPool: true, CreatedAt: now, VerifiedAt: now}
	var old store.Server
	err := r.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.ServerByIP(ctx, c.IP)
		switch {
		case err == nil && cur.AccountID == c.AccountID:
			// The account holds the address already (it added it again
			// meanwhile): verify that server.
			s = cur
			if err := tx.MarkServerVerified(ctx, cur.ID, now); err != nil {
				return err
			}
			return tx.DeleteClaim(ctx, c.AccountID, c.ID)
		case err == nil:
			if err := tx.DeleteServerNow(ctx, cur.ID, now); err != nil {
				return err
			}
			old = cur
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.DeleteClaim(ctx, c.AccountID, c.ID); err != nil {
			return err
		}
		id, err := tx.CreateServer(ctx, s)
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
