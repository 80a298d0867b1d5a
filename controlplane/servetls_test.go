package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// TestServeOverTLS: serve with -tls-cert/-tls-key answers HTTPS with HSTS,
// serves the monitor API over it, picks up a renewed certificate without a
// restart, and keeps its database file private.
func TestServeOverTLS(t *testing.T) {
	ctx := context.Background()
	etcd, _ := startEtcd(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "tls.db")
	// A database file left world-readable is made private.
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMonitor(ctx, store.Monitor{Name: "tls-mon", TokenHash: store.HashToken("mon-token"), State: store.MonitorActive}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.Chmod(db, 0o644)

	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, "first", certFile, keyFile)
	listen := freePort(t)
	startServe(t, db, etcd.Endpoint(), listen, "NTPPOOL_TLS_CERT="+certFile, "NTPPOOL_TLS_KEY="+keyFile)

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	r, err := hc.Get("https://" + listen + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK || r.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("home over TLS: %d, HSTS %q", r.StatusCode, r.Header.Get("Strict-Transport-Security"))
	}
	if r.TLS.PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatalf("certificate %q", r.TLS.PeerCertificates[0].Subject.CommonName)
	}
	// The monitor API, its bearer token inside TLS.
	req, _ := http.NewRequest(http.MethodGet, "https://"+listen+monitorapi.PathConfig, nil)
	req.Header.Set("Authorization", "Bearer mon-token")
	r, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("monitor API over TLS: %d", r.StatusCode)
	}
	// Plain HTTP gets no page.
	if r, err := http.Get("http://" + listen + "/"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served a page")
		}
	}

	// A renewed certificate is served without a restart.
	ca.issue(t, "renewed", certFile, keyFile)
	// Distinct file times even on a file system with coarse ones.
	later := time.Now().Add(time.Minute)
	os.Chtimes(certFile, later, later)
	os.Chtimes(keyFile, later, later)
	wait.For(t, 10*time.Second, "the renewed certificate served", func() bool {
		c, err := tls.Dial("tcp", listen, &tls.Config{RootCAs: ca.pool})
		if err != nil {
			return false
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName == "renewed"
	})

	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::1")
	if err != nil || len(got) != 4 || got[1].String() != "192.0.2.1/32" || got[3].String() != "::1/128" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parsePrefixes("10.0.0.0/8,nonsense"); err == nil {
		t.Error("nonsense accepted")
	}
}
