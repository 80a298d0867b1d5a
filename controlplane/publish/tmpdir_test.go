package publish

import (
	"os"
	"testing"
)

var etcdDir string

// tmpDir is the shared etcd's data directory (it outlives single tests).
func tmpDir() (string, error) {
	var err error
	etcdDir, err = os.MkdirTemp("", "publish-etcd-")
	return etcdDir, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if etcdSrv != nil {
		etcdSrv.Stop()
	}
	if etcdDir != "" {
		os.RemoveAll(etcdDir)
	}
	os.Exit(code)
}
