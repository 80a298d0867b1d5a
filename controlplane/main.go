// Command controlplane is the NTP pool's control plane: accounts, servers
// and monitors in SQLite or PostgreSQL, the monitor API, scoring, monitor selection and
// the publisher that writes the scored server sets into etcd for the
// ntppool CoreDNS plugin. See README.md.
//
//	controlplane dev                    # the whole pool on this machine
//	controlplane serve                  # production: external etcd, one of N instances
//	controlplane user create --admin --email E
//	controlplane monitor create NAME    # prints the monitor's token once
//	controlplane servers list | monitors list
//	controlplane vendor approve NAME
//	controlplane backup -out FILE | restore -in FILE
//	controlplane query pool.ntp.test    # the dev pool's DNS answer, without dig
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Usage: controlplane COMMAND [flags]

The ntppool control plane. Every flag defaults to an environment variable,
named in its help; "controlplane COMMAND -help" lists a command's flags.

Commands:
  dev                     run a whole pool on this machine (embedded etcd, web UI,
                          a monitor, CoreDNS, demo NTP servers), data in ./data
  serve                   run the control plane against an external etcd
  query NAME              ask the dev pool's DNS for NAME's addresses (like dig)
  user create             create a user (--admin for an administrator)
  monitor create NAME     create a monitor and print its token (shown only once)
  servers list            list servers with their scores
  monitors list           list monitors
  vendor approve NAME     approve a vendor zone
  backup -out FILE        copy the database while it runs (SQLite or pg_dump)
  restore -in FILE        restore a backup into a new database
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

// run dispatches a command line; out gets command output, errOut help and logs.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(errOut, usage)
		return errors.New("no command")
	}
	two := func(a, b string) bool { return len(args) >= 2 && args[0] == a && args[1] == b }
	switch {
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(out, usage)
		return nil
	case args[0] == "dev":
		return runDev(ctx, args[1:], out, errOut)
	case args[0] == "serve":
		return runServe(ctx, args[1:], out, errOut)
	case args[0] == "query":
		return runQuery(ctx, args[1:], out, errOut)
	case two("user", "create"):
		return userCreate(ctx, args[2:], out, errOut)
	case two("monitor", "create"):
		return monitorCreate(ctx, args[2:], out, errOut)
	case two("servers", "list"):
		return serversList(ctx, args[2:], out, errOut)
	case two("monitors", "list"):
		return monitorsList(ctx, args[2:], out, errOut)
	case two("vendor", "approve"):
		return vendorApprove(ctx, args[2:], out, errOut)
	case args[0] == "backup":
		return backupCmd(ctx, args[1:], out, errOut)
	case args[0] == "restore":
		return restoreCmd(ctx, args[1:], out, errOut)
	}
	fmt.Fprint(errOut, usage)
	return fmt.Errorf("unknown command %q", args)
}

// newLogger builds the binary's slog logger.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}
