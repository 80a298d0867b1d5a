// Command etcdnode runs one etcd member (package embedetcd) until SIGTERM
// or SIGINT: the members of the loopback cluster (internal/cluster), each
// in its own process so one can be killed.
//
//	etcdnode -name e1 -dir data/e1 -client 127.0.0.1:23791 -peer 127.0.0.1:23801 \
//	    -initial-cluster e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
)

func main() {
	var cfg embedetcd.Config
	flag.StringVar(&cfg.Name, "name", "ntppool", "member name")
	flag.StringVar(&cfg.Dir, "dir", "", "data directory (required)")
	flag.StringVar(&cfg.ClientAddr, "client", "", "client host:port (empty: a free port)")
	flag.StringVar(&cfg.PeerAddr, "peer", "", "peer host:port (empty: a free port)")
	flag.StringVar(&cfg.InitialCluster, "initial-cluster", "", "name=http://peer,... of every member (empty: a cluster of one)")
	flag.StringVar(&cfg.LogLevel, "log-level", "error", "etcd's log level")
	flag.Parse()
	if cfg.Dir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := embedetcd.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdnode:", err)
		os.Exit(1)
	}
	fmt.Printf("etcdnode %s serving %s\n", cfg.Name, s.Endpoint())
	err = s.Wait(ctx)
	s.Stop()
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "etcdnode:", err)
		os.Exit(1)
	}
}
