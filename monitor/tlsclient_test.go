package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestCAFlagTrustsThePoolsCA: with -ca the agent's client trusts a server
// certified by that CA, and without it refuses the same server.
func TestCAFlagTrustsThePoolsCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)

	plain, err := apiHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil {
		t.Fatal("a certificate of an unknown CA was trusted")
	}
	withCA, err := apiHTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	r, err := withCA.Get(srv.URL)
	if err != nil {
		t.Fatalf("with -ca: %v", err)
	}
	r.Body.Close()

	if _, err := apiHTTPClient(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("a missing -ca file was accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("not a certificate"), 0o600)
	if _, err := apiHTTPClient(empty); err == nil {
		t.Error("a -ca file without certificates was accepted")
	}
}
