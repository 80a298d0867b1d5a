package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// child is a process dev runs beside itself (the monitor, CoreDNS).
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// startChild runs bin with args, output appended to logPath. It is stopped
// with SIGTERM (SIGKILL 5 s later) when ctx ends, and killed by the kernel
// when dev dies (Linux).
func startChild(ctx context.Context, name, bin, logPath string, args ...string) (*child, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(path) {
		if path, err = filepath.Abs(path); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), log: f}
	go func() { cmd.Wait(); f.Close(); close(c.done) }()
	return c, nil
}

// wait blocks until the child has exited.
func (c *child) wait() { <-c.done }

// writeCorefile writes the dev CoreDNS configuration into data.
func writeCorefile(data, zone, listen, endpoint, prefix string) (string, error) {
	host, port := splitHostPort(listen)
	conf := fmt.Sprintf(`# Written by "controlplane dev" at every start.
%s:%s {
    bind %s
    errors
    ntppool {
        endpoint %s
        path %s
        ns ns1.%s %s
    }
}
`, zone, port, host, endpoint, prefix, zone, nsAddr(host))
	path := filepath.Join(data, "Corefile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("write Corefile: %w", err)
	}
	return path, nil
}

// nsAddr is the address the dev zone gives its name server ns1.ZONE: the
// DNS listen address, or loopback when that is a wildcard or not an IP.
func nsAddr(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil || a.IsUnspecified() {
		return "127.0.0.1"
	}
	return a.String()
}
