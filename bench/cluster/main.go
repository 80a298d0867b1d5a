// Command cluster starts the loopback cluster of internal/cluster (three
// etcd members, two control planes on one store, three CoreDNS) and keeps
// it running until Ctrl-C; with -scenario it runs the kill scenario under
// load instead and prints the figures. scripts/cluster runs it.
//
//	go run ./bench/cluster                         # start, print the addresses, wait
//	go run ./bench/cluster -scenario -phase 30s    # the long run of the figures
//	go run ./bench/cluster -db postgres://...      # the control planes on PostgreSQL
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ntppool-ng/ntppool/internal/cluster"
)

func main() {
	dir := flag.String("dir", "", "directory for binaries, data and logs (default: a new temporary one, removed at exit)")
	db := flag.String("db", "", "the control planes' store: a file or a postgres:// DSN (default: DIR/ntppool.db)")
	ttl := flag.Duration("lease-ttl", 2*time.Second, "the control planes' leader lease")
	scenario := flag.Bool("scenario", false, "run the kill scenario under load, print the figures and exit")
	phase := flag.Duration("phase", 30*time.Second, "with -scenario: load before and after each kill")
	flag.Parse()
	if err := run(*dir, *db, *ttl, *scenario, *phase); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(dir, db string, ttl time.Duration, scenario bool, phase time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "ntppool-cluster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Printf("building and starting the cluster in %s (logs in %s/logs)\n", dir, dir)
	c, err := cluster.Start(ctx, cluster.Config{Dir: dir, DB: db, LeaseTTL: ttl, Log: os.Stdout})
	if err != nil {
		return err
	}
	defer c.Stop()
	if !scenario {
		fmt.Printf("try: go run ./controlplane query -server %s %s\nCtrl-C stops the cluster.\n", c.DNS[0].Addr, cluster.Zone)
		<-ctx.Done()
		return nil
	}
	start := time.Now()
	f, err := c.Run(ctx, cluster.RunConfig{Phase: phase})
	fmt.Printf("\nfigures (phases of %v, %v in all):\n%s", phase, time.Since(start).Round(time.Second), f)
	return err
}
