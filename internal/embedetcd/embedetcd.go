// Package embedetcd runs a single-member etcd server inside the process: the
// one-machine default of the control plane and the etcd of every test.
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
	ec := embed.NewConfig()
	ec.Name = "ntppool"
	ec.Dir = cfg.Dir
	ec.LogLevel = cfg.LogLevel
	cu := url.URL{Scheme: "http", Host: cfg.ClientAddr}
	pu := url.URL{Scheme: "http", Host: cfg.PeerAddr}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
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

// Endpoint is the client URL, e.g. "http://127.0.0.1:41234".
func (s *Server) Endpoint() string { return "http://" + s.cfg.ClientAddr }

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
