#!/usr/bin/env bash
# Compares the query rate of CoreDNS serving the pool with ntppool against
# the same binary serving the same names with the file plugin (a static zone,
# 4 records per name) and with the hosts plugin (one map lookup: the
# framework's ceiling for a 4-record answer). dnsperf drives each server with
# the pool's query mix (apex, numbered, country, continent; A and AAAA), once
# without and once with an EDNS Client Subnet option from the GeoIP test
# database, so GeoIP really runs.
#
# Rates drift between back-to-back runs on shared machines, so the script
# runs interleaved rounds (a fresh server per run, order rotated each round)
# and reports the median of the per-round ratios.
#
#   bench/dns.sh                 # defaults below
#   ROUNDS=7 DURATION=15 SERVERS=5000 bench/dns.sh
#
# Prints per run: rate (queries/s) and server CPU microseconds per query;
# at the end the medians of the per-round CPU ratios (cpu_ratio_*), then
# ratio_file_noecs, ratio_hosts_noecs, and last ratio_file and ratio_hosts
# for the run with ECS (GeoIP included): the targets' figures.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-5000}
CLIENTS=${CLIENTS:-20}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

command -v dnsperf >/dev/null || { echo "dns.sh: dnsperf missing (scripts/install-test-deps)" >&2; exit 1; }
command -v dig >/dev/null || { echo "dns.sh: dig missing (scripts/install-test-deps)" >&2; exit 1; }

. bench/lib.sh
start_pool "$SERVERS"

# The query mix and the names the static servers must hold.
names4=(pool.ntp.test 0.pool.ntp.test 1.pool.ntp.test 2.pool.ntp.test 3.pool.ntp.test
  de.pool.ntp.test us.pool.ntp.test fr.pool.ntp.test uk.pool.ntp.test nl.pool.ntp.test
  0.de.pool.ntp.test 1.us.pool.ntp.test 3.fr.pool.ntp.test
  europe.pool.ntp.test north-america.pool.ntp.test asia.pool.ntp.test 1.europe.pool.ntp.test)
names6=(2.pool.ntp.test 2.de.pool.ntp.test 2.us.pool.ntp.test 2.europe.pool.ntp.test)
: >"$work/queries"
for n in "${names4[@]}"; do echo "$n A" >>"$work/queries"; done
for n in "${names6[@]}"; do echo "$n AAAA" >>"$work/queries"; done

# Static zone and hosts file of the same shape: 4 A and 4 AAAA per name.
{
  echo '$ORIGIN pool.ntp.test.'
  echo '@ 3600 IN SOA ns1.pool.ntp.test. hostmaster.pool.ntp.test. 1 5400 5400 1209600 3600'
  echo '@ 86400 IN NS ns1.pool.ntp.test.'
} >"$work/zone"
: >"$work/hosts"
i=0
for n in $(printf '%s\n' "${names4[@]}" "${names6[@]}" | sort -u); do
  for k in 1 2 3 4; do
    i=$((i + 1))
    a="20.$((i / 250)).$((i % 250)).$k"
    aaaa="2a00:1000::$i:$k"
    echo "$n. 150 IN A $a" >>"$work/zone"
    echo "$n. 150 IN AAAA $aaaa" >>"$work/zone"
    echo "$a $n" >>"$work/hosts"
    echo "$aaaa $n" >>"$work/hosts"
  done
done

geo="$PWD/plugin/testdata/GeoIP2-Country-Test.mmdb"
corefile() { # kind port
  case $1 in
  ntppool) printf 'pool.ntp.test:%s {\n bind 127.0.0.1\n ntppool {\n  endpoint http://127.0.0.1:%s\n  geoip %s\n  ns ns1.pool.ntp.test 127.0.0.1\n }\n}\n' "$2" "$etcd_port" "$geo" ;;
  file) printf 'pool.ntp.test:%s {\n bind 127.0.0.1\n file %s\n}\n' "$2" "$work/zone" ;;
  hosts) printf 'pool.ntp.test:%s {\n bind 127.0.0.1\n hosts %s pool.ntp.test {\n  ttl 150\n  no_reverse\n }\n}\n' "$2" "$work/hosts" ;;
  esac
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

# One run: a fresh server of kind, dnsperf against it; prints "rate cpu_us".
run_one() { # kind ecs(0/1)
  local kind=$1 ecs=$2 port pid t0 t1 out qps done_q
  port=$(free_port)
  corefile "$kind" "$port" >"$work/Corefile.$kind"
  taskset -c "$SERVER_CPU" bin/coredns -conf "$work/Corefile.$kind" -quiet >"$work/coredns.$kind.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" de.pool.ntp.test A 2>/dev/null | grep -q . && break
    sleep 0.05
  done
  local extra=()
  # ECS 89.160.20.128/25 (SE in the test database): family 1, source 25.
  [ "$ecs" = 1 ] && extra=(-E 8:0001190059a01480)
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$DURATION" -c "$CLIENTS" -T 1 -q 200 "${extra[@]}" 2>&1)
  t1=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  qps=$(awk '/Queries per second/ {print $4}' <<<"$out")
  done_q=$(awk '/Queries completed/ {print $3}' <<<"$out")
  awk -v q="$qps" -v n="$done_q" -v d="$((t1 - t0))" -v h="$tck" 'BEGIN { printf "%.0f %.2f\n", q, (n > 0 ? d / h * 1e6 / n : 0) }'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

kinds=(ntppool file hosts)
for ecs in 0 1; do
  label=$([ "$ecs" = 1 ] && echo "ecs" || echo "noecs")
  : >"$work/ratios_file_$label"; : >"$work/ratios_hosts_$label"; : >"$work/cpu_file_$label"; : >"$work/cpu_hosts_$label"
  for r in $(seq "$ROUNDS"); do
    declare -A rate=() cpu=()
    for j in 0 1 2; do
      kind=${kinds[$(((j + r) % 3))]}
      read -r q cpu < <(run_one "$kind" "$ecs")
      rate[$kind]=$q
      cpu[$kind]=$cpu
      echo "round $r $label $kind rate $q qps cpu_us_per_query $cpu"
    done
    awk -v a="${rate[ntppool]}" -v b="${rate[file]}" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/ratios_file_$label"
    awk -v a="${rate[ntppool]}" -v b="${rate[hosts]}" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/ratios_hosts_$label"
    awk -v a="${cpu[ntppool]}" -v b="${cpu[file]}" 'BEGIN { printf "%.4f\n", b / a }' >>"$work/cpu_file_$label"
    awk -v a="${cpu[ntppool]}" -v b="${cpu[hosts]}" 'BEGIN { printf "%.4f\n", b / a }' >>"$work/cpu_hosts_$label"
  done
done

# The same comparison by server CPU per query (file's / ntppool's), which a
# busy machine disturbs less than the rate.
for label in noecs ecs; do
  printf 'cpu_ratio_file_%s %.2f\n' "$label" "$(median <"$work/cpu_file_$label")"
  printf 'cpu_ratio_hosts_%s %.2f\n' "$label" "$(median <"$work/cpu_hosts_$label")"
done
printf 'ratio_file_noecs %.2f\n' "$(median <"$work/ratios_file_noecs")"
printf 'ratio_hosts_noecs %.2f\n' "$(median <"$work/ratios_hosts_noecs")"
printf 'ratio_file %.2f\n' "$(median <"$work/ratios_file_ecs")"
printf 'ratio_hosts %.2f\n' "$(median <"$work/ratios_hosts_ecs")"
