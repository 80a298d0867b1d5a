package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestOpenMigratesAndReopens(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			dsn := testDSN(t, b)
			st, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if st.Backend() != b {
				t.Fatalf("backend %s, want %s", st.Backend(), b)
			}
			if _, err := st.CreateAccount(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if b == SQLite {
				var v int
				if err := st.DB().QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() {
					t.Fatalf("user_version %d, want %d (%v)", v, SchemaVersion(), err)
				}
				var mode string
				if err := st.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
					t.Fatalf("journal_mode %q (%v)", mode, err)
				}
			}
			st.Close()
			st, err = Open(ctx, dsn)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer st.Close()
			assertFullSchema(t, st)
			if _, err := st.Account(ctx, 1); err != nil {
				t.Fatalf("account lost over reopen: %v", err)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := st.CreateAccount(ctx, "acme")
		hash, err := HashPassword("s3cret")
		if err != nil {
			t.Fatal(err)
		}
		id, err := st.CreateUser(ctx, User{AccountID: acct, Email: "Ann@Example.org", PasswordHash: hash, IsAdmin: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, User{AccountID: acct, Email: "ann@example.org"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate e-mail: %v, want ErrConflict", err)
		}
		u, err := st.UserByEmail(ctx, "ANN@example.org")
		if err != nil || u.ID != id || !u.IsAdmin || !u.CheckPassword("s3cret") || u.CheckPassword("x") {
			t.Fatalf("UserByEmail = %+v, %v", u, err)
		}
		if _, err := st.User(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
	})
}

func TestServersUniqueAmongLive(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := st.CreateAccount(ctx, "acme")
		ip := netip.MustParseAddr("2001:db8::1")
		id, err := st.CreateServer(ctx, Server{IP: ip, AccountID: acct, Netspeed: 10000, Country: "de", InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateServer(ctx, Server{IP: ip}); !errors.Is(err, ErrConflict) {
			t.Fatalf("second live server: %v", err)
		}
		if err := st.SetServerCountryOverride(ctx, acct+1, id, "fr"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("foreign account changed a server: %v", err)
		}
		if err := st.SetServerCountryOverride(ctx, acct, id, "fr"); err != nil {
			t.Fatal(err)
		}
		s, err := st.ServerByIP(ctx, ip)
		if err != nil || s.Zone() != "fr" || s.Country != "de" || !s.InPool {
			t.Fatalf("ServerByIP = %+v, %v", s, err)
		}
		now := time.Now()
		if err := st.SetServerDeletion(ctx, acct, id, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		ids, err := st.DeleteDueServers(ctx, now)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Fatalf("DeleteDueServers = %v, %v", ids, err)
		}
		if _, err := st.ServerByIP(ctx, ip); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted server still live: %v", err)
		}
		if _, err := st.CreateServer(ctx, Server{IP: ip}); err != nil {
			t.Fatalf("re-adding a deleted address: %v", err)
		}
	})
}

func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		boom := errors.New("boom")
		err := st.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.CreateAccount(ctx, "gone"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := st.Account(ctx, 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rolled-back account exists: %v", err)
		}
	})
}
