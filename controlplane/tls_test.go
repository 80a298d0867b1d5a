package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/unitcheck"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in dir named as the systemd units' credentials.
type testPKI struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func newPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := newTestCA(t)
	srvCert, srvKey := ca.sign(t, "etcd", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	cliCert, cliKey := ca.sign(t, "ntppool", x509.ExtKeyUsageClientAuth)
	return testPKI{
		CA:         write("etcd-ca.pem", pemBlock("CERTIFICATE", ca.cert.Raw)),
		ServerCert: write("etcd-server.pem", srvCert),
		ServerKey:  write("etcd-server-key.pem", srvKey),
		ClientCert: write("etcd-client.pem", cliCert),
		ClientKey:  write("etcd-client-key.pem", cliKey),
	}
}

// TestEtcdOverTLSWithClientCertificates: etcd serves clients over TLS and
// requires a client certificate; "serve" (configured by the etcd settings
// of its systemd unit) publishes through it and CoreDNS (tls CERT KEY
// CACERT from the credentials directory, as its unit's Corefile does)
// answers with the published server, while a client without a
// certificate is refused.
func TestEtcdOverTLSWithClientCertificates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pki := newPKI(t, dir)
	etcd, err := embedetcd.Start(embedetcd.Config{Dir: filepath.Join(dir, "etcd"), LogLevel: "fatal",
		ClientTLS: &embedetcd.TLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CA}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Stop) // after serve and CoreDNS (cleanups run last first)

	// Without a client certificate the handshake fails.
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(pki.CA)
	pool.AppendCertsFromPEM(caPEM)
	anon, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint()}, DialTimeout: time.Second,
		TLS: &tls.Config{RootCAs: pool}, Logger: zap.NewNop()})
	if err == nil {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = anon.Get(gctx, "/")
		cancel()
		anon.Close()
	}
	if err == nil {
		t.Fatal("etcd answered a client without a certificate")
	}

	db := filepath.Join(dir, "tls.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.44")
	if _, err := st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, Country: "de", InPool: true, Score: 20}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var env []string
	for _, kv := range unitcheck.Environment(t, "ntppool-controlplane.service", dir) {
		if strings.HasPrefix(kv, "NTPPOOL_ETCD_") {
			env = append(env, kv)
		}
	}
	if len(env) != 3 {
		t.Fatalf("the unit's etcd settings: %v, want certificate, key and CA", env)
	}
	startServe(t, db, etcd.Endpoint(), freePort(t), env...)

	dns := freePort(t)
	host, port := splitHostPort(dns)
	startCoreDNSBin(t, fmt.Sprintf(`pool.ntp.test:%s {
    bind %s
    ntppool {
        endpoint %s
        tls {$CREDENTIALS_DIRECTORY}/etcd-client.pem {$CREDENTIALS_DIRECTORY}/etcd-client-key.pem {$CREDENTIALS_DIRECTORY}/etcd-ca.pem
        ns ns1.pool.ntp.test %s
    }
}
`, port, host, etcd.Endpoint(), host), "CREDENTIALS_DIRECTORY="+dir)
	took := wait.For(t, 30*time.Second, "the published server in CoreDNS's answer", func() bool {
		return slices.Contains(queryDNS(dns, "pool.ntp.test"), ip.String())
	})
	t.Logf("serve and CoreDNS over TLS with client certificates: answer after %v", took)
}
