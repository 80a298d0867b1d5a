// Package embedetcd runs an etcd member inside the process: alone, the
// one-machine default of the control plane and the etcd of every test; or
// one member of a cluster (Config.InitialCluster, as the loopback cluster
// runs three), optionally serving clients over TLS with client
// certificates (Config.ClientTLS).
package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config says where the member keeps its data and listens.
type Config struct {
	// Dir holds the member's data; it survives a restart.
	Dir string
	// ClientAddr and PeerAddr are host:port; empty means a free loopback port.
	ClientAddr string
	PeerAddr   string
	// LogLevel is etcd's zap level; empty means "error" (etcd is chatty).
	LogLevel string
	// StartTimeout bounds the wait for the member to be ready (default 30s).
	StartTimeout time.Duration

	// Name is the member's name ("ntppool"). InitialCluster, when set,
	// makes it one member of a cluster: "name=http://peer,..." naming every
	// member (etcd's --initial-cluster); empty means a cluster of one.
	Name           string
	InitialCluster string
	// ClientTLS, when set, serves clients over TLS and requires a client
	// certificate signed by its CA (etcd's --client-cert-auth).
	ClientTLS *TLS
}

// TLS names PEM files: the member's certificate and key and the CA that
// signs the clients' certificates.
type TLS struct {
	CertFile, KeyFile, CAFile string
}

// Server is a running embedded etcd member.
type Server struct {
	etcd *embed.Etcd
	cfg  Config
}

// Start starts the member and waits until it serves. The chosen addresses
// are in Config(), so a test can Stop and Start the same member again.
func Start(cfg Config) (*Server, error) {
	var err error
	if cfg.ClientAddr == "" {
		if cfg.ClientAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	if cfg.PeerAddr == "" {
		if cfg.PeerAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "error"
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "ntppool"
	}
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = cfg.Dir
	ec.LogLevel = cfg.LogLevel
	cu := url.URL{Scheme: "http", Host: cfg.ClientAddr}
	if cfg.ClientTLS != nil {
		cu.Scheme = "https"
		ec.ClientTLSInfo.CertFile, ec.ClientTLSInfo.KeyFile = cfg.ClientTLS.CertFile, cfg.ClientTLS.KeyFile
		ec.ClientTLSInfo.TrustedCAFile, ec.ClientTLSInfo.ClientCertAuth = cfg.ClientTLS.CAFile, true
	}
	pu := url.URL{Scheme: "http", Host: cfg.PeerAddr}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	if cfg.InitialCluster != "" {
		ec.InitialCluster = cfg.InitialCluster
		ec.InitialClusterToken = "ntppool-cluster"
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: start in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedetcd: start: %w", err)
	case <-time.After(cfg.StartTimeout):
		e.Close()
		return nil, errors.New("embedetcd: not ready in time")
	}
	return &Server{etcd: e, cfg: cfg}, nil
}

// Config returns the configuration the member runs with, free ports filled in.
func (s *Server) Config() Config { return s.cfg }

// Endpoint is the client URL, e.g. "http://127.0.0.1:41234" (https with
// ClientTLS).
func (s *Server) Endpoint() string {
	if s.cfg.ClientTLS != nil {
		return "https://" + s.cfg.ClientAddr
	}
	return "http://" + s.cfg.ClientAddr
}

// Client returns a new client connected to this member; the caller closes
// it. Its logger is silent: the client's retries on a stopping member are
// noise, and callers report the errors they get.
func (s *Server) Client() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// Stop stops the member and waits for it to release its ports and data.
func (s *Server) Stop() {
	s.etcd.Close()
	<-s.etcd.Server.StopNotify()
}

// Err reports a fatal error of the running member.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Wait blocks until the member stops or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-s.etcd.Err():
		return err
	case <-s.etcd.Server.StopNotify():
		return nil
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("embedetcd: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
