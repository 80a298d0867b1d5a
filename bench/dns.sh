#!/usr/bin/env bash
# Compares the query rate of CoreDNS serving the pool with ntppool against
# the same binary serving the same names with the file plugin (a static zone,
# 4 records per name) and with the hosts plugin (one map lookup: the
# framework's ceiling for a 4-record answer), and against bench/ceiling: a
# bare github.com/miekg/dns server returning a fixed 4-record answer, no
# CoreDNS at all (the ceiling of any miekg/dns server). dnsperf drives each server with
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
# ratio_file_noecs, ratio_hosts_noecs, ratio_ceiling_noecs, and last
# ratio_file, ratio_hosts and ratio_ceiling for the run with ECS (GeoIP
# included): the targets' figures.
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
go build -o bin/ceiling ./bench/ceiling
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
  if [ "$kind" = ceiling ]; then
    taskset -c "$SERVER_CPU" bin/ceiling -listen "127.0.0.1:$port" >"$work/ceiling.log" 2>&1 &
  else
    corefile "$kind" "$port" >"$work/Corefile.$kind"
    taskset -c "$SERVER_CPU" bin/coredns -conf "$work/Corefile.$kind" -quiet >"$work/coredns.$kind.log" 2>&1 &
  fi
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

kinds=(ntppool file hosts ceiling)
others=(file hosts ceiling)
for ecs in 0 1; do
  label=$([ "$ecs" = 1 ] && echo "ecs" || echo "noecs")
  for o in "${others[@]}"; do : >"$work/ratios_${o}_$label"; : >"$work/cpu_${o}_$label"; done
  for r in $(seq "$ROUNDS"); do
    declare -A rate=() cpu=()
    for j in $(seq 0 $((${#kinds[@]} - 1))); do
      kind=${kinds[$(((j + r) % ${#kinds[@]}))]}
      read -r q cpu < <(run_one "$kind" "$ecs")
      rate[$kind]=$q
      cpu[$kind]=$cpu
      echo "round $r $label $kind rate $q qps cpu_us_per_query $cpu"
    done
    for o in "${others[@]}"; do
      awk -v a="${rate[ntppool]}" -v b="${rate[$o]}" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/ratios_${o}_$label"
      awk -v a="${cpu[ntppool]}" -v b="${cpu[$o]}" 'BEGIN { printf "%.4f\n", b / a }' >>"$work/cpu_${o}_$label"
    done
  done
done

# The same comparison by server CPU per query (the other's / ntppool's),
# which a busy machine disturbs less than the rate.
for label in noecs ecs; do
  for o in "${others[@]}"; do
    printf 'cpu_ratio_%s_%s %.2f\n' "$o" "$label" "$(median <"$work/cpu_${o}_$label")"
  done
done
for o in "${others[@]}"; do
  printf 'ratio_%s_noecs %.2f\n' "$o" "$(median <"$work/ratios_${o}_noecs")"
done
for o in "${others[@]}"; do
  printf 'ratio_%s %.2f\n' "$o" "$(median <"$work/ratios_${o}_ecs")"
done
