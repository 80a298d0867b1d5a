package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/pgtest"
)

// TestBackupAndRestore backs up a running store, restores it into a new
// database, and finds the same rows and scores there, on the pages too.
func TestBackupAndRestore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		testBackupRestore(t, filepath.Join(dir, "live.db"), filepath.Join(dir, "restored.db"))
	})
	t.Run("postgres", func(t *testing.T) { testBackupRestore(t, pgtest.NewDatabase(t), pgtest.NewDatabase(t)) })
}

func testBackupRestore(t *testing.T, src, dst string) {
	ctx := context.Background()
	st, err := store.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := createUser(ctx, st, "owner@example.org", "pw-123456789", true); err != nil {
		t.Fatal(err)
	}
	u, _ := st.UserByEmail(ctx, "owner@example.org")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var ips []netip.Addr
	for i := range 3 {
		ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})
		id, err := st.CreateServer(ctx, store.Server{IP: ip, AccountID: u.AccountID, Netspeed: 1000, Country: "de", InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		for k := range 5 {
			if err := st.AddLogScore(ctx, store.LogScore{ServerID: id, Time: t0.Add(time.Duration(k) * time.Minute),
				Step: 1, Score: float64(10*i + k)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetServerScore(ctx, id, float64(10*i+4)+0.25, t0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		ips = append(ips, ip)
	}
	before, _ := st.Servers(ctx)

	file := filepath.Join(t.TempDir(), "backup")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"backup", "-db", src, "-out", file}, &out, &errOut); err != nil {
		t.Fatalf("backup: %v\n%s", err, errOut.String())
	}
	// Written after the backup: must not come back.
	if _, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("192.0.2.99"), Netspeed: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"restore", "-db", dst, "-in", file}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	if err := run(ctx, []string{"restore", "-db", dst, "-in", file}, &out, &errOut); err == nil {
		t.Fatal("a second restore over the restored database was accepted")
	}

	re, err := store.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	after, err := re.Servers(ctx)
	if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("servers after restore:\n%v (%v)\nbefore:\n%v", after, err, before)
	}
	if ru, err := re.UserByEmail(ctx, "owner@example.org"); err != nil || !ru.CheckPassword("pw-123456789") || !ru.IsAdmin {
		t.Fatalf("user after restore: %+v %v", ru, err)
	}
	if n, err := re.CountLogScores(ctx); err != nil || n != 15 {
		t.Fatalf("%d history rows after restore (%v), want 15", n, err)
	}
	// New rows get fresh ids (PostgreSQL's identity sequences came along).
	if id, err := re.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("192.0.2.77"), Netspeed: 1000}); err != nil || id != before[len(before)-1].ID+1 {
		t.Fatalf("new server after restore: id %d, %v", id, err)
	}
	re.Close()

	// The restored database serves the same score page.
	etcd, _ := startEtcd(t)
	listen := freePort(t)
	startServe(t, dst, etcd.Endpoint(), listen)
	resp, err := http.Get("http://" + listen + "/scores/" + ips[2].String() + "/json?limit=10")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		History []struct {
			Score float64 `json:"score"`
		} `json:"history"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("score page: %d %v", resp.StatusCode, err)
	}
	var scores []float64
	for _, h := range page.History {
		scores = append(scores, h.Score)
	}
	if fmt.Sprint(scores) != "[24 23 22 21 20]" && fmt.Sprint(scores) != "[20 21 22 23 24]" {
		t.Fatalf("score page history %v, want 20..24", scores)
	}
}
