# Shared by the bench scripts (source it): a temporary work directory with
# cleanup of started processes, the binaries, free ports, and an embedded
# etcd filled with generated servers.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o bin/coredns ./plugin/coredns
go build -o "$work/poolgen" ./bench/poolgen

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_pool N: starts an embedded etcd holding N generated servers on a
# free port, sets etcd_port, and waits until it is filled.
start_pool() {
  etcd_port=$(free_port)
  "$work/poolgen" -n "$1" -etcd-listen "127.0.0.1:$etcd_port" -etcd-dir "$work/etcd" >"$work/poolgen.out" 2>"$work/poolgen.err" &
  pids+=($!)
  for _ in $(seq 1200); do grep -q "poolgen: ready" "$work/poolgen.out" && break; sleep 0.1; done
  grep -q "poolgen: ready" "$work/poolgen.out" || { cat "$work/poolgen.err" >&2; exit 1; }
}
