#!/usr/bin/env bash
# Load test of the index size: fills an embedded etcd with SERVERS generated
# servers (default 100,000), starts CoreDNS with ntppool on it, and prints
# the time from process start to ready (index loaded), the resident memory
# of the CoreDNS process once loaded and after a dnsperf burst.
#
#   bench/load.sh
#   SERVERS=200000 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS=${SERVERS:-100000}

. bench/lib.sh
start_pool "$SERVERS"

dns_port=$(free_port)
ready_port=$(free_port)
cat >"$work/Corefile" <<EOC
pool.ntp.test:$dns_port {
    bind 127.0.0.1
    ready 127.0.0.1:$ready_port
    ntppool {
        endpoint http://127.0.0.1:$etcd_port
        geoip $PWD/plugin/testdata/GeoIP2-Country-Test.mmdb
        startup_timeout 30s
        ns ns1.pool.ntp.test 127.0.0.1
    }
}
EOC
start=$(date +%s.%N)
bin/coredns -conf "$work/Corefile" -quiet >"$work/coredns.log" 2>&1 &
pid=$!
pids+=($pid)
until curl -fsS "http://127.0.0.1:$ready_port/ready" >/dev/null 2>&1; do
  kill -0 "$pid" || { cat "$work/coredns.log" >&2; exit 1; }
  sleep 0.01
done
end=$(date +%s.%N)
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
echo "servers $SERVERS"
awk -v a="$start" -v b="$end" 'BEGIN { printf "load_seconds %.2f\n", b - a }'
echo "rss_mb_loaded $(rss)"
printf 'pool.ntp.test A\nde.pool.ntp.test A\n2.pool.ntp.test AAAA\n1.europe.pool.ntp.test A\n' >"$work/queries"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l 5 -c 10 -q 100 -E 8:0001190059a01480 2>&1 | awk '/Queries per second/ {print "qps " $4}'
echo "rss_mb_after_queries $(rss)"
