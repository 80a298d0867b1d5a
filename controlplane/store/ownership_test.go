package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// Tokens find their server or claim only while unexpired; verifying voids
// the token; unverified servers and claims count toward the cap, verified
// servers and other accounts' rows do not.
func TestVerificationTokensAndUnverifiedCount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		other, _ := st.CreateAccount(ctx, "b")
		now := time.Now()
		add := func(ip string, account int64, verified time.Time) int64 {
			id, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr(ip), AccountID: account, Netspeed: 1000, InPool: true, VerifiedAt: verified})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		unverified := add("192.0.2.1", acct, time.Time{})
		add("192.0.2.2", acct, now)
		theirs := add("192.0.2.3", other, time.Time{})
		count := func(want int) {
			t.Helper()
			if n, err := st.CountUnverified(ctx, acct, now); err != nil || n != want {
				t.Fatalf("unverified count %d %v, want %d", n, err, want)
			}
		}
		count(1)

		if err := st.SetServerVerifyToken(ctx, acct, theirs, "x", now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token set on another account's server: %v", err)
		}
		if err := st.SetServerVerifyToken(ctx, acct, unverified, "h1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ServerByVerifyToken(ctx, "h1", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired token found a server: %v", err)
		}
		s, err := st.ServerByVerifyToken(ctx, "h1", now)
		if err != nil || s.ID != unverified || !s.VerifiedAt.IsZero() {
			t.Fatalf("server by token: %+v %v", s, err)
		}
		if err := st.MarkServerVerified(ctx, unverified, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ServerByVerifyToken(ctx, "h1", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token still works after verification: %v", err)
		}
		count(0)

		c := Claim{IP: netip.MustParseAddr("192.0.2.3"), AccountID: acct, Stratum: 2, CreatedAt: now, VerifyExpires: now.Add(time.Hour)}
		cid, err := st.CreateClaim(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateClaim(ctx, c); !errors.Is(err, ErrConflict) {
			t.Fatalf("second claim of the same address: %v", err)
		}
		count(1)
		if err := st.SetClaimVerifyToken(ctx, other, cid, "h2", now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token set on another account's claim: %v", err)
		}
		if err := st.SetClaimVerifyToken(ctx, acct, cid, "h2", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimByVerifyToken(ctx, "h2", now)
		if err != nil || got.ID != cid || got.IP != c.IP || got.AccountID != acct || got.VerifyExpires.IsZero() {
			t.Fatalf("claim by token: %+v %v", got, err)
		}
		if err := st.DeleteClaim(ctx, other, cid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another account deleted the claim: %v", err)
		}
		if err := st.DeleteAccount(ctx, acct, now); err != nil {
			t.Fatal(err)
		}
		if cl, _ := st.AccountClaims(ctx, acct); len(cl) != 0 {
			t.Fatalf("claims outlive their account: %+v", cl)
		}
	})
}

// A claim lapses when its expiry passes: it stops counting toward the cap
// at once, and the retention job's DeleteExpiredWebRows removes it; a new
// token moves the expiry.
func TestClaimsLapse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		claim := func(ip string, expires time.Time) int64 {
			id, err := st.CreateClaim(ctx, Claim{IP: netip.MustParseAddr(ip), AccountID: acct, CreatedAt: now, VerifyExpires: expires})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		live := claim("192.0.2.10", now.Add(time.Hour))
		claim("192.0.2.11", now)
		renewed := claim("192.0.2.12", now.Add(-time.Minute))
		if err := st.SetClaimVerifyToken(ctx, acct, renewed, "h", now.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ids := func() (out []int64) {
			cl, err := st.AccountClaims(ctx, acct)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cl {
				out = append(out, c.ID)
			}
			return out
		}
		if n, err := st.CountUnverified(ctx, acct, now); err != nil || n != 2 {
			t.Fatalf("unverified at now: %d %v, want the live and the renewed claim", n, err)
		}
		if err := st.DeleteExpiredWebRows(ctx, now); err != nil {
			t.Fatal(err)
		}
		if got := ids(); len(got) != 2 || got[0] != live || got[1] != renewed {
			t.Fatalf("claims after retention %v, want [%d %d]", got, live, renewed)
		}
		later := now.Add(2 * time.Hour)
		if n, _ := st.CountUnverified(ctx, acct, later); n != 1 {
			t.Fatalf("unverified two hours on: %d, want the renewed claim", n)
		}
		if err := st.DeleteExpiredWebRows(ctx, later); err != nil {
			t.Fatal(err)
		}
		if got := ids(); len(got) != 1 || got[0] != renewed {
			t.Fatalf("claims two hours on %v, want [%d]", got, renewed)
		}
	})
}
