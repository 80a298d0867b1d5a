package embedetcd

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// StartForTest starts a quiet member in a temporary directory and a client
// to it; both are stopped when the test ends.
func StartForTest(t testing.TB) (*Server, *clientv3.Client) {
	t.Helper()
	s, err := Start(Config{Dir: t.TempDir(), LogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return s, cli
}
