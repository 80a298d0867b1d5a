// Command poolgen fills etcd with N generated pool servers (internal/poolgen).
// Without -endpoints it starts an embedded etcd, fills it and keeps serving
// it until interrupted: the etcd of benchmarks and the sample run command.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/record"
)

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	n, _ := strconv.Atoi(envOr("POOLGEN_N", "1000"))
	count := flag.Int("n", n, "number of servers (env POOLGEN_N)")
	seed := flag.Uint64("seed", 1, "generator seed")
	endpoints := flag.String("endpoints", envOr("NTPPOOL_ETCD_ENDPOINTS", ""), "etcd endpoints, comma separated; empty starts an embedded etcd (env NTPPOOL_ETCD_ENDPOINTS)")
	listen := flag.String("etcd-listen", envOr("POOLGEN_ETCD_LISTEN", "127.0.0.1:2379"), "client address of the embedded etcd (env POOLGEN_ETCD_LISTEN)")
	dir := flag.String("etcd-dir", envOr("POOLGEN_ETCD_DIR", ""), "data directory of the embedded etcd; empty means a new temporary one (env POOLGEN_ETCD_DIR)")
	prefix := flag.String("prefix", envOr("NTPPOOL_ETCD_PREFIX", record.DefaultPrefix), "etcd key prefix (env NTPPOOL_ETCD_PREFIX)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, *count, *seed, *endpoints, *listen, *dir, *prefix); err != nil {
		log.Error("poolgen failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, n int, seed uint64, endpoints, listen, dir, prefix string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var srv *embedetcd.Server
	if endpoints == "" {
		if dir == "" {
			d, err := os.MkdirTemp("", "poolgen-etcd-")
			if err != nil {
				return fmt.Errorf("temp dir: %w", err)
			}
			defer os.RemoveAll(d)
			dir = d
		}
		var err error
		srv, err = embedetcd.Start(embedetcd.Config{Dir: dir, ClientAddr: listen})
		if err != nil {
			return err
		}
		defer srv.Stop()
		endpoints = srv.Endpoint()
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()

	start := time.Now()
	servers := poolgen.Generate(poolgen.Options{N: n, Seed: seed})
	if err := poolgen.Write(ctx, cli, prefix, servers, poolgen.SampleVendors()); err != nil {
		return err
	}
	log.Info("pool written", "servers", n, "etcd", endpoints, "prefix", prefix, "took", time.Since(start).Round(time.Millisecond))
	fmt.Println("poolgen: ready", endpoints)
	if srv == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-srv.Err():
		return err
	}
}
