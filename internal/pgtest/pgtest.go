// Package pgtest runs a throwaway PostgreSQL server for tests: Debian's
// initdb and postgres (from /usr/lib/postgresql/*/bin) run as the `postgres`
// OS user in a temp dir, listening on a Unix socket only, without fsync. One
// server serves a whole test binary and each test gets a fresh database.
//
// # Usage
//
//	func TestMain(m *testing.M) { pgtest.Main(m) } // stops the server after the tests
//
//	dsn := pgtest.NewDatabase(t) // postgres://… of an empty database, dropped after t
//
// The server starts on the first NewDatabase, so a run that needs none pays
// nothing. It never skips: without PostgreSQL installed the test fails and
// says how to install it (scripts/install-test-deps). The postmaster gets
// SIGQUIT (an immediate shutdown) when the tests end or the test binary
// dies, so no server outlives its tests.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Server is one running PostgreSQL server.
type Server struct {
	dir     string // temp dir holding data/ and the socket
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	admin   *sql.DB // to the postgres database, for CREATE/DROP DATABASE
}

var (
	shared    *Server
	sharedErr error
	startOnce sync.Once
	dbSeq     atomic.Int64
)

// Main runs the tests and then stops the shared server, if one started.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with cleanups of its own: it runs the tests,
// stops the shared server and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// NewDatabase creates an empty database on the shared server and returns its
// DSN; the database is dropped when t ends (after the cleanups t registers
// later, such as closing a store on it).
func NewDatabase(t testing.TB) string {
	t.Helper()
	startOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	dsn, err := shared.CreateDatabase(context.Background(), fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1)))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := dbName(dsn)
	t.Cleanup(func() {
		// FORCE ends connections a failed test left open.
		if _, err := shared.admin.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dsn
}

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin or on PATH: install PostgreSQL " +
		"(scripts/install-test-deps does, as Debian's postgresql package)")
}

// version is the major version in /usr/lib/postgresql/NN/bin/initdb.
func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// Start initialises a cluster in a new temp dir and starts its server.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "postgres.log"), exited: make(chan struct{})}
	if err := s.start(bin, cred); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// postgresUser is the credential to run the server with: PostgreSQL refuses
// to run as root, so as root we become the `postgres` user; anyone else
// runs it as themselves.
func postgresUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user (Debian's postgresql package makes it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) start(bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	data := filepath.Join(s.dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C")
	initdb.Dir = s.dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer logf.Close()
	// Unix socket only (no TCP port to collide with), no durability: a
	// test database never outlives a crash.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", s.dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// SIGQUIT is PostgreSQL's immediate shutdown, also when the test
	// binary dies without stopping the server.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()

	s.admin, err = sql.Open("pgx", s.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("postgres exited during start-up:\n%s", log)
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("postgres not ready after 30 s: %w\n%s", err, log)
		}
	}
}

// dsn is the URL of database name on this server's socket.
func (s *Server) dsn(name string) string {
	q := url.Values{"host": {s.dir}, "sslmode": {"disable"}}
	return "postgres://postgres@/" + name + "?" + q.Encode()
}

// dbName is the database of a DSN made by dsn.
func dbName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Path[1:]
}

// DSN is the URL of database name on this server.
func (s *Server) DSN(name string) string { return s.dsn(name) }

// CreateDatabase makes an empty database and returns its DSN. name must be
// a plain identifier.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.dsn(name), nil
}

// Stop shuts the server down at once (SIGQUIT, as pg_ctl stop -m
// immediate) and removes its files.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			err = errors.New("postgres ignored SIGQUIT for 30 s; killed")
		}
	}
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("stop: %w", rmErr)
	}
	return err
}
