package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a certificate for 127.0.0.1 named cn and its key to the
// files.
func (ca *testCA) issue(t *testing.T, cn, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	// Key first: the reloader must not pair a new certificate with an old key.
	writeAtomic(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
	writeAtomic(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

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
