package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// withDB runs an admin command's body on the store named by -db.
func withDB(ctx context.Context, db string, fn func(*store.Store) error) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func userCreate(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("user create [flags]", "Creates a user with a new account and prints its log-in. Without -password a\nrandom one is generated and printed.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	email := fs.String("email", "", "the user's e-mail address (required)")
	pass := fs.String("password", "", "the password (env NTPPOOL_USER_PASSWORD); empty: generated")
	admin := fs.Bool("admin", false, "make the user an administrator")
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user create: -email is required")
	}
	pw, err := secret(*pass, "NTPPOOL_USER_PASSWORD")
	if err != nil {
		return err
	}
	return withDB(ctx, *db, func(st *store.Store) error {
		pw, err := createUser(ctx, st, *email, pw, *admin)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s created (admin: %v)\npassword: %s\n", *email, *admin, pw)
		return nil
	})
}

// createUser adds an account and a confirmed user; it returns the password
// (generated when pw is empty).
func createUser(ctx context.Context, st *store.Store, email, pw string, admin bool) (string, error) {
	if pw == "" {
		pw = rand.Text()[:16]
	}
	hash, err := store.HashPassword(pw)
	if err != nil {
		return "", err
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		acct, err := tx.CreateAccount(ctx, email)
		if err != nil {
			return err
		}
		_, err = tx.CreateUser(ctx, store.User{AccountID: acct, Email: email, PasswordHash: hash, IsAdmin: admin,
			EmailConfirmedAt: time.Now()})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("user create: %w", err)
	}
	return pw, nil
}

func monitorCreate(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("monitor create [flags] NAME", "Creates a monitor and prints its API token. The token is stored only as a hash:\nthis is the one time it is shown.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	loc := fs.String("location", "", "where the monitor runs, e.g. \"Frankfurt, DE\"")
	ip4Str := fs.String("ip4", "", "its IPv4 address: it watches IPv4 servers and calls the API from it")
	ip6Str := fs.String("ip6", "", "its IPv6 address: it watches IPv6 servers and calls the API from it")
	nat := fs.Bool("behind-nat", false, "accept its API calls from any address")
	state := fs.String("state", store.MonitorActive, "global state: pending, testing or active")
	if err := parse(fs, e, args, 1); err != nil {
		return err
	}
	m := store.Monitor{Name: fs.Arg(0), Location: *loc, BehindNAT: *nat, State: *state}
	for _, a := range []struct {
		flag, val string
		to        *netip.Addr
	}{{"ip4", *ip4Str, &m.IP4}, {"ip6", *ip6Str, &m.IP6}} {
		if a.val == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.val)
		if err != nil {
			return fmt.Errorf("monitor create: -%s: %w", a.flag, err)
		}
		*a.to = ip
	}
	switch *state {
	case store.MonitorPending, store.MonitorTesting, store.MonitorActive:
	default:
		return fmt.Errorf("monitor create: -state %q: want pending, testing or active", *state)
	}
	return withDB(ctx, *db, func(st *store.Store) error {
		tok, err := createMonitor(ctx, st, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "monitor %s created\ntoken (shown only now): %s\n", fs.Arg(0), tok)
		return nil
	})
}

// createMonitor stores m with a new token and returns the token.
func createMonitor(ctx context.Context, st *store.Store, m store.Monitor) (string, error) {
	tok := newToken()
	m.TokenHash = store.HashToken(tok)
	if _, err := st.CreateMonitor(ctx, m); err != nil {
		return "", fmt.Errorf("monitor create: %w", err)
	}
	return tok, nil
}

func serversList(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("servers list [flags]", "Lists the live servers with their overall scores and whether they are in the DNS.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	return withDB(ctx, *db, func(st *store.Store) error { return printServers(ctx, st, out) })
}

func printServers(ctx context.Context, st *store.Store, out io.Writer) error {
	servers, err := st.Servers(ctx)
	if err != nil {
		return err
	}
	sc := score.DefaultConfig()
	now := time.Now()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIP\tCOUNTRY\tNETSPEED\tSTRATUM\tSCORE\tIN DNS\tDELETION")
	for _, s := range servers {
		in := s.InPool && sc.InDNS(now, score.Server{Score: s.Score, NetSpeed: s.Netspeed, Deletion: s.DeletionOn})
		del := ""
		if !s.DeletionOn.IsZero() {
			del = s.DeletionOn.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%.1f\t%v\t%s\n", s.ID, s.IP, s.Zone(), s.Netspeed, s.Stratum, s.Score, in, del)
	}
	return tw.Flush()
}

func monitorsList(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("monitors list [flags]", "Lists the monitors that are not deleted.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	return withDB(ctx, *db, func(st *store.Store) error { return printMonitors(ctx, st, out) })
}

func printMonitors(ctx context.Context, st *store.Store, out io.Writer) error {
	mons, err := st.Monitors(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tIPV4\tIPV6\tLOCATION\tLAST SEEN")
	for _, m := range mons {
		seen := "never"
		if !m.LastSeen.IsZero() {
			seen = m.LastSeen.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Name, m.State, family(m, 4), family(m, 6), m.Location, seen)
	}
	return tw.Flush()
}

// family describes what a monitor does for IP version ver: its address,
// "any" when it watches the family without a registered address, or "-".
func family(m store.Monitor, ver int) string {
	switch {
	case !m.Watches(ver):
		return "-"
	case m.Addr(ver).IsValid():
		return m.Addr(ver).String()
	}
	return "any"
}

func userRole(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("user role [flags] EMAIL ROLE", "Grants a role to a user, or revokes it with -revoke. Roles: admin (every role),\nmonitor-admin (approves, pauses and deletes monitors), support (takes servers\nout of the pool, edits their zones). The change is written to the audit log.", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	revoke := fs.Bool("revoke", false, "revoke the role instead of granting it")
	if err := parse(fs, e, args, 2); err != nil {
		return err
	}
	role, err := store.ParseRole(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("user role: %w", err)
	}
	return withDB(ctx, *db, func(st *store.Store) error {
		return st.InTx(ctx, func(tx *store.Tx) error {
			u, err := tx.UserByEmail(ctx, fs.Arg(0))
			if err != nil {
				return fmt.Errorf("user role: %w", err)
			}
			if err := tx.SetUserRole(ctx, u.ID, role, !*revoke); err != nil {
				return fmt.Errorf("user role: %w", err)
			}
			verb := "granted"
			if *revoke {
				verb = "revoked"
			}
			if err := tx.Audit(ctx, store.AuditEntry{Actor: "cli", Action: "user.role", Subject: "user " + u.Email,
				Detail: role + " " + verb}); err != nil {
				return err
			}
			fmt.Fprintf(out, "role %s %s for %s\n", role, verb, u.Email)
			return nil
		})
	})
}

func vendorApprove(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("vendor approve [flags] NAME", "Approves a requested vendor zone; the leader publishes it within its recheck\ninterval (10 s).", errOut)
	db := fs.String("db", e.str("NTPPOOL_DB", "ntppool.db"), helpDB)
	if err := parse(fs, e, args, 1); err != nil {
		return err
	}
	return withDB(ctx, *db, func(st *store.Store) error {
		if err := st.SetVendorZoneStatus(ctx, fs.Arg(0), store.VendorApproved, time.Now()); err != nil {
			return fmt.Errorf("vendor approve: %w", err)
		}
		fmt.Fprintf(out, "vendor zone %s approved\n", fs.Arg(0))
		return nil
	})
}

// newToken is a new monitor bearer token (256 random bits).
func newToken() string { return rand.Text() + rand.Text() }
