// Package ntpserver is a small real NTP server over UDP for tests and demo
// pools: it answers NTPv3 and NTPv4 client packets in server mode, and can be
// told to misbehave (clock offset, stratum, leap indicator, reference id,
// kiss-o'-death, silence, malformed replies). It imports only the standard
// library.
//
// # Usage
//
//	srv, err := ntpserver.Listen("127.0.0.2:0", ntpserver.Config{Offset: 100 * time.Millisecond})
//	defer srv.Close()
//	ntp.QueryWithOptions(srv.Addr().String(), ntp.QueryOptions{Timeout: time.Second})
//	srv.SetConfig(ntpserver.Config{KissCode: "RATE"})
//
// Every packet costs a bounded amount of work: a packet that is not a 48+
// byte NTPv3/v4 client request is dropped without a reply, and the reply is
// built in a fixed buffer.
package ntpserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config is how the server behaves. The zero value is a healthy stratum 2
// server whose reference id is 127.127.1.1's bytes ("LOCL" at stratum 1).
type Config struct {
	// Offset is added to the server's clock: positive means it runs ahead.
	Offset time.Duration
	// Stratum reported; 0 means 2 unless KissCode is set (then it is 0).
	Stratum uint8
	// Leap indicator 0..3 (3: clock not synchronised).
	Leap uint8
	// RefID is the reference id: up to 4 ASCII characters for stratum 1
	// ("GPS"), or an IPv4 address for stratum 2 and above ("192.0.2.1").
	// Empty: "LOCL" at stratum 1, 127.0.0.1 otherwise.
	RefID string
	// KissCode, when set (e.g. "RATE", "DENY", "RSTR"), makes every reply a
	// kiss-o'-death: stratum 0, leap 3, the code as reference id.
	KissCode string
	// Silent drops every request without an answer.
	Silent bool
	// Malformed answers with a truncated packet no NTP client can parse.
	Malformed bool
}

// Server is one listening NTP responder.
type Server struct {
	conn    *net.UDPConn
	cfg     atomic.Pointer[Config]
	served  atomic.Uint64
	dropped atomic.Uint64
	done    chan struct{}
	once    sync.Once
}

// Listen starts a server on a UDP address ("127.0.0.2:123", "[::1]:0").
func Listen(addr string, cfg Config) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ntpserver: listen %q: %w", addr, err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("ntpserver: listen %s: %w", addr, err)
	}
	s := &Server{conn: conn, done: make(chan struct{})}
	s.cfg.Store(&cfg)
	go s.serve()
	return s, nil
}

func (c Config) validate() error {
	if c.Leap > 3 {
		return fmt.Errorf("ntpserver: leap %d out of range 0..3", c.Leap)
	}
	if c.Stratum > 16 {
		return fmt.Errorf("ntpserver: stratum %d out of range 0..16", c.Stratum)
	}
	if len(c.KissCode) > 4 {
		return fmt.Errorf("ntpserver: kiss code %q longer than 4 characters", c.KissCode)
	}
	if _, err := c.refID(); err != nil {
		return err
	}
	return nil
}

// SetConfig changes the behaviour for the following requests. An invalid
// configuration is refused and the old one kept.
func (s *Server) SetConfig(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	s.cfg.Store(&cfg)
	return nil
}

// Config returns the behaviour in force.
func (s *Server) Config() Config { return *s.cfg.Load() }

// Addr is the address the server listens on (with the port chosen by the
// system when the caller asked for port 0).
func (s *Server) Addr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Served counts the requests answered (malformed replies included).
func (s *Server) Served() uint64 { return s.served.Load() }

// Dropped counts the packets not answered: silence, or not a client request.
func (s *Server) Dropped() uint64 { return s.dropped.Load() }

// Close stops the server and waits for its goroutine to end.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.conn.Close()
		<-s.done
	})
	return err
}

func (s *Server) serve() {
	defer close(s.done)
	var in [512]byte
	var out [packetLen]byte
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(in[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient errors (ICMP feedback, a truncated read) must not
			// stop the server.
			continue
		}
		reply := Reply(out[:], in[:n], time.Now(), s.cfg.Load())
		if reply == nil {
			s.dropped.Add(1)
			continue
		}
		// Counted before the send, so a client that got the reply always
		// sees it counted; a failed send is lost like any UDP datagram.
		s.served.Add(1)
		s.conn.WriteToUDPAddrPort(reply, from) //nolint:errcheck // see above
	}
}
