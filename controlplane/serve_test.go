package main

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

// TestServeWithEtcdAuth runs "serve" against an etcd with authentication
// on, the password from NTPPOOL_ETCD_PASSWORD_FILE: it must log in and
// publish what the store says.
func TestServeWithEtcdAuth(t *testing.T) {
	ctx := context.Background()
	etcd, cli := startEtcd(t)
	if _, err := cli.UserAdd(ctx, "root", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "auth.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("127.1.2.3")
	id, _ := st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, Country: "de", InPool: true})
	st.SetServerScore(ctx, id, 15, time.Now())
	st.Close()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("s3cret-pw\n"), 0o600)

	metrics := freePort(t)
	startServe(t, db, etcd.Endpoint(), freePort(t), "NTPPOOL_ETCD_USER=root", "NTPPOOL_ETCD_PASSWORD_FILE="+pwFile,
		"NTPPOOL_METRICS_LISTEN="+metrics)
	authed, err := clientWithAuth(etcd.Endpoint(), "root", "s3cret-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer authed.Close()
	key := record.ServerKey(record.DefaultPrefix, ip)
	wait.For(t, 15*time.Second, "serve publishes through an authenticated etcd", func() bool {
		resp, err := authed.Get(ctx, key)
		return err == nil && len(resp.Kvs) == 1
	})

	// The leader's metrics say so, and name what it wrote.
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"ntppool_controlplane_leader 1", "ntppool_controlplane_publish_writes_total 1",
		"ntppool_controlplane_results_total 0", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func clientWithAuth(endpoint, user, pass string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Username: user, Password: pass,
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}
