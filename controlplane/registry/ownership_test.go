package registry

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// ownedRegistry is a registry whose NTP check always answers stratum 2, on
// a clock the test moves, with two accounts.
func ownedRegistry(t *testing.T, cfg Config) (r *Registry, st *store.Store, owner, other int64, clock *time.Time) {
	t.Helper()
	st = openStore(t)
	ctx := context.Background()
	owner, _ = st.CreateAccount(ctx, "owner")
	other, _ = st.CreateAccount(ctx, "other")
	now := time.Now()
	clock = &now
	cfg.AllowPrivate = true
	cfg.Check = func(context.Context, netip.Addr) (int, error) { return 2, nil }
	cfg.Now = func() time.Time { return *clock }
	return New(st, cfg), st, owner, other, clock
}

func mustRegister(t *testing.T, r *Registry, account int64, in Input) store.Server {
	t.Helper()
	s, err := r.Register(context.Background(), account, in)
	if err != nil {
		t.Fatalf("register %s: %v", in.Address, err)
	}
	return s
}

func wantUnchanged(t *testing.T, st *store.Store, want store.Server) {
	t.Helper()
	got, err := st.ServerByIP(context.Background(), want.IP)
	if err != nil || got.ID != want.ID || got.AccountID != want.AccountID || got.Netspeed != want.Netspeed ||
		!got.VerifiedAt.Equal(want.VerifiedAt) || !got.DeletionOn.Equal(want.DeletionOn) {
		t.Fatalf("server at %s is now %+v (%v), want %+v", want.IP, got, err, want)
	}
}

// A second account adding an address another account holds gets only a
// claim: the holder keeps the server, with its net speed, until a request
// from the address itself presents the claim's token.
func TestSecondAccountCannotTakeOver(t *testing.T) {
	ctx := context.Background()
	r, st, owner, other, _ := ownedRegistry(t, Config{})
	held := mustRegister(t, r, owner, Input{Address: "127.0.0.40", Netspeed: speed(50000), Verified: true})

	_, err := r.Register(ctx, other, Input{Address: "127.0.0.40"})
	wantField(t, err, FieldAddress, CodeClaimed)
	wantUnchanged(t, st, held)
	claims, _ := st.AccountClaims(ctx, other)
	if len(claims) != 1 || claims[0].IP != held.IP {
		t.Fatalf("claims %+v, want one for %s", claims, held.IP)
	}
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.40"})
	wantField(t, err, FieldAddress, CodeClaimed) // the same claim, not a second
	if n, _ := st.CountUnverified(ctx, other, time.Now()); n != 1 {
		t.Fatalf("other account has %d waiting, want its one claim", n)
	}
	// The claimant cannot touch the holder's server.
	if err := r.SetNetspeed(ctx, other, held.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claimant changed the net speed: %v", err)
	}
	if err := r.ScheduleDeletion(ctx, other, held.ID, time.Now().Add(5*24*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claimant scheduled a deletion: %v", err)
	}
	wantUnchanged(t, st, held)

	tok, err := r.NewClaimToken(ctx, other, claims[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewClaimToken(ctx, owner, claims[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token for another account's claim: %v", err)
	}
	// From anywhere else than the address: refused, nothing changes.
	for _, from := range []string{"127.0.0.41", "::1", "192.0.2.40"} {
		_, err := r.Verify(ctx, tok.Token, netip.MustParseAddr(from))
		if ws, ok := errors.AsType[*WrongSourceError](err); !ok || ws.Want != held.IP {
			t.Fatalf("verify from %s: %v, want a wrong-source refusal", from, err)
		}
		wantUnchanged(t, st, held)
	}
	if _, err := r.Verify(ctx, "not-a-token", held.IP); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("unknown token: %v", err)
	}
	// From the address (IPv4-mapped, as a dual-stack listener sees it).
	moved, err := r.Verify(ctx, tok.Token, netip.MustParseAddr("::ffff:127.0.0.40"))
	if err != nil {
		t.Fatal(err)
	}
	if moved.AccountID != other || moved.ID == held.ID || moved.VerifiedAt.IsZero() || moved.Netspeed != DefaultNetspeed || moved.Score != 0 {
		t.Fatalf("after verification the address is %+v, want a new verified server of the claimant", moved)
	}
	if old, _ := st.Server(ctx, held.ID); old.DeletedAt.IsZero() {
		t.Fatal("the holder's server is still live")
	}
	if claims, _ := st.AccountClaims(ctx, other); len(claims) != 0 {
		t.Fatalf("fulfilled claim stays: %+v", claims)
	}
	if _, err := r.Verify(ctx, tok.Token, held.IP); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("a used token works again: %v", err)
	}
}

// Re-registering during the owner's scheduled deletion no longer takes the
// address: the owner keeps the server and can still cancel the deletion.
func TestOwnerCanUndoDeletionWhileClaimPending(t *testing.T) {
	ctx := context.Background()
	r, st, owner, other, clock := ownedRegistry(t, Config{})
	held := mustRegister(t, r, owner, Input{Address: "127.0.0.42", Verified: true})
	if err := r.ScheduleDeletion(ctx, owner, held.ID, clock.Add(3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	held, _ = st.Server(ctx, held.ID)
	_, err := r.Register(ctx, other, Input{Address: "127.0.0.42"})
	wantField(t, err, FieldAddress, CodeClaimed)
	wantUnchanged(t, st, held)
	if err := r.CancelDeletion(ctx, owner, held.ID); err != nil {
		t.Fatalf("owner's undo with a claim pending: %v", err)
	}
	if s, _ := st.Server(ctx, held.ID); !s.DeletionOn.IsZero() || s.AccountID != owner {
		t.Fatalf("after undo: %+v", s)
	}
	// The claim waits, and the claimant may withdraw it.
	claims, _ := st.AccountClaims(ctx, other)
	if len(claims) != 1 {
		t.Fatalf("claims %+v", claims)
	}
	if err := r.CancelClaim(ctx, owner, claims[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the holder withdrew another account's claim: %v", err)
	}
	if err := r.CancelClaim(ctx, other, claims[0].ID); err != nil {
		t.Fatal(err)
	}
}

// An unverified server's net speed can only go down, from registration on;
// verification lifts the rule.
func TestUnverifiedCannotRaiseNetspeed(t *testing.T) {
	ctx := context.Background()
	r, st, owner, _, _ := ownedRegistry(t, Config{})
	_, err := r.Register(ctx, owner, Input{Address: "127.0.0.43", Netspeed: speed(25000)})
	wantField(t, err, FieldNetspeed, CodeUnverified)
	s := mustRegister(t, r, owner, Input{Address: "127.0.0.43"})
	if !s.VerifiedAt.IsZero() || s.Netspeed != DefaultNetspeed {
		t.Fatalf("new server %+v, want unverified at the default net speed", s)
	}
	wantField(t, r.SetNetspeed(ctx, owner, s.ID, 3000000), FieldNetspeed, CodeUnverified)
	if err := r.SetNetspeed(ctx, owner, s.ID, 3000); err != nil {
		t.Fatalf("lowering: %v", err)
	}
	wantField(t, r.SetNetspeed(ctx, owner, s.ID, 6000), FieldNetspeed, CodeUnverified)
	if got, _ := st.Server(ctx, s.ID); got.Netspeed != 3000 {
		t.Fatalf("net speed %d, want 3000", got.Netspeed)
	}
	tok, err := r.NewServerToken(ctx, owner, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(ctx, tok.Token, netip.MustParseAddr("127.0.0.44")); err == nil {
		t.Fatal("verified from another address")
	}
	if _, err := r.Verify(ctx, tok.Token, s.IP); err != nil {
		t.Fatal(err)
	}
	if err := r.SetNetspeed(ctx, owner, s.ID, 3000000); err != nil {
		t.Fatalf("raising a verified server: %v", err)
	}
	_, err = r.NewServerToken(ctx, owner, s.ID)
	wantField(t, err, FieldVerify, CodeInvalid)
}

// An account with 2 servers or claims waiting for verification cannot add
// more; verifying one makes room.
func TestUnverifiedCap(t *testing.T) {
	ctx := context.Background()
	r, st, owner, other, _ := ownedRegistry(t, Config{})
	mustRegister(t, r, owner, Input{Address: "127.0.0.50", Verified: true})
	a := mustRegister(t, r, other, Input{Address: "127.0.0.51"})
	_, err := r.Register(ctx, other, Input{Address: "127.0.0.50"}) // a claim counts too
	wantField(t, err, FieldAddress, CodeClaimed)
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.52"})
	wantField(t, err, FieldAddress, CodeUnverifiedCap)
	if _, err := st.ServerByIP(ctx, netip.MustParseAddr("127.0.0.52")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused server stored: %v", err)
	}
	// Verification, by the address or by an admin, makes room.
	if err := r.MarkVerified(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	mustRegister(t, r, other, Input{Address: "127.0.0.52"})
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.53"})
	wantField(t, err, FieldAddress, CodeUnverifiedCap)
}

// A claim nobody verifies lapses after VerifyTTL (from its making, or
// from its last token): it no longer holds a place under the cap.
func TestLapsedClaimLeavesTheCap(t *testing.T) {
	ctx := context.Background()
	r, st, owner, other, clock := ownedRegistry(t, Config{})
	mustRegister(t, r, owner, Input{Address: "127.0.0.60", Verified: true})
	mustRegister(t, r, owner, Input{Address: "127.0.0.61", Verified: true})
	mustRegister(t, r, other, Input{Address: "127.0.0.62"})
	_, err := r.Register(ctx, other, Input{Address: "127.0.0.60"})
	wantField(t, err, FieldAddress, CodeClaimed)
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.61"})
	wantField(t, err, FieldAddress, CodeUnverifiedCap)

	*clock = clock.Add(72*time.Hour - time.Minute)
	claims, _ := st.AccountClaims(ctx, other)
	if len(claims) != 1 || !claims[0].VerifyExpires.Equal(clock.Add(time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("claims %+v, want one lapsing 72 h after it was made", claims)
	}
	if _, err := r.NewClaimToken(ctx, other, claims[0].ID); err != nil { // a new token renews it
		t.Fatal(err)
	}
	*clock = clock.Add(time.Hour)
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.61"})
	wantField(t, err, FieldAddress, CodeUnverifiedCap)

	*clock = clock.Add(72 * time.Hour)
	if _, err := r.NewClaimToken(ctx, other, claims[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token for a lapsed claim: %v, want ErrNotFound", err)
	}
	_, err = r.Register(ctx, other, Input{Address: "127.0.0.61"})
	wantField(t, err, FieldAddress, CodeClaimed)
}

// A token works for VerifyTTL; a new one replaces the last.
func TestVerifyTokenExpiresAndIsReplaced(t *testing.T) {
	ctx := context.Background()
	r, _, owner, _, clock := ownedRegistry(t, Config{})
	s := mustRegister(t, r, owner, Input{Address: "127.0.0.54"})
	first, err := r.NewServerToken(ctx, owner, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Add(72 * time.Hour); !first.Expires.Equal(want) {
		t.Fatalf("token expires %v, want %v", first.Expires, want)
	}
	second, _ := r.NewServerToken(ctx, owner, s.ID)
	if _, err := r.Verify(ctx, first.Token, s.IP); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("replaced token: %v", err)
	}
	*clock = clock.Add(72*time.Hour + time.Second)
	if _, err := r.Verify(ctx, second.Token, s.IP); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("expired token: %v", err)
	}
}

// mapResolver answers hostnames from a map, as DNS would.
type mapResolver map[string][]string

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := m[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// A hostname's A and AAAA records each become a server, each checked on
// its own: one already in the pool is refused without stopping the others.
func TestHostnameAddsEachAddress(t *testing.T) {
	ctx := context.Background()
	r, st, owner, _, _ := ownedRegistry(t, Config{Resolver: mapResolver{
		"ntp.example.test":   {"127.0.0.60", "::ffff:127.0.0.60", "::1"},
		"three.example.test": {"127.0.0.61", "127.0.0.62", "127.0.0.63"},
		"empty.example.test": {},
	}})
	added, err := r.Add(ctx, owner, Input{Address: "NTP.example.test.", Country: "de"})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 2 {
		t.Fatalf("added %+v, want 127.0.0.60 and ::1 (the mapped form is the same address)", added)
	}
	for i, want := range []string{"127.0.0.60", "::1"} {
		a := added[i]
		if a.Err != nil || a.Server.IP.String() != want || a.Server.AccountID != owner || a.Server.Zone() != "de" {
			t.Fatalf("address %d: %+v, want server %s", i, a, want)
		}
	}
	if srvs, _ := st.ServersByAccount(ctx, owner); len(srvs) != 2 {
		t.Fatalf("account has %d servers, want 2", len(srvs))
	}
	// Two unverified servers: the cap refuses each further address.
	added, err = r.Add(ctx, owner, Input{Address: "three.example.test"})
	if err != nil || len(added) != 3 {
		t.Fatalf("add: %+v %v", added, err)
	}
	for _, a := range added {
		wantField(t, a.Err, FieldAddress, CodeUnverifiedCap)
	}
	for _, host := range []string{"empty.example.test", "missing.example.test"} {
		_, err = r.Add(ctx, owner, Input{Address: host})
		wantField(t, err, FieldAddress, CodeNoAddress)
	}
	for _, bad := range []string{"no_underscores.example.test", "-x.example.test", "localhost", "a..b"} {
		_, err = r.Add(ctx, owner, Input{Address: bad})
		wantField(t, err, FieldAddress, CodeInvalid)
	}
}

// Each of a hostname's addresses goes through the address rules: a
// private one is refused, a public one beside it added.
func TestHostnameAddressesCheckedEachOnTheirOwn(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	acct, _ := st.CreateAccount(ctx, "a")
	r := New(st, Config{Resolver: mapResolver{"mixed.example.test": {"10.0.0.1", "81.2.69.160"}},
		Check: func(context.Context, netip.Addr) (int, error) { return 2, nil }})
	added, err := r.Add(ctx, acct, Input{Address: "mixed.example.test"})
	if err != nil || len(added) != 2 {
		t.Fatalf("add: %+v %v", added, err)
	}
	wantField(t, added[0].Err, FieldAddress, CodeNotPublic)
	if added[1].Err != nil || added[1].Server.IP.String() != "81.2.69.160" || !added[1].Server.VerifiedAt.IsZero() {
		t.Fatalf("public address: %+v", added[1])
	}
}
