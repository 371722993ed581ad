#!/usr/bin/env bash
# Smoke test of the binaries from tools/kube/build.sh: start a kwok cluster on loopback only
# (binary runtime, no downloads), add a fake node and a 3-replica Deployment, check the pods reach
# Running with 127.x IPs, print timings and control-plane RSS, then delete the cluster.
#
# Isolation (default when root and `ip netns` works; MCPROOF_KUBE_NETNS=0 to run in the host's
# network namespace): everything runs in a fresh network namespace that has only `lo`, so no packet
# can leave the machine whatever a component tries. With strace installed (MCPROOF_KUBE_STRACE=1,
# the default if present) every connect() of every cluster process is logged and the run fails if
# any target is not a loopback address.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[kube-smoke] %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

BIN=$(tools/kube/build.sh)
MCPROOF_CACHE=${MCPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcproof}
NAME=${KWOK_CLUSTER_NAME:-mcproof-probe}
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mcproof-kube-smoke.XXXXXX")
export KWOK_WORKDIR="$RUN_DIR/kwok"
export KUBECONFIG="$RUN_DIR/kubeconfig" KUBECACHEDIR="$RUN_DIR/kube-cache"
export PATH="$BIN:$PATH"
# kwokctl looks for kubectl on PATH and would otherwise download one; name every binary explicitly.
export KWOK_KUBECTL_BINARY="$BIN/kubectl"
CONFIG=tools/kube/kwokctl-config.yaml

NETNS=""
if [ "${MCPROOF_KUBE_NETNS:-auto}" != 0 ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  NETNS="mcproof-kube-$$"
  ip netns add "$NETNS" || die "ip netns add failed (set MCPROOF_KUBE_NETNS=0 to run without isolation)"
  ip netns exec "$NETNS" ip link set lo up
elif [ "${MCPROOF_KUBE_NETNS:-auto}" = 1 ]; then
  die "MCPROOF_KUBE_NETNS=1 needs root and iproute2"
fi
inns() { if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi; }
kc() { inns kubectl "$@"; }

STRACE=""
if [ "${MCPROOF_KUBE_STRACE:-auto}" != 0 ] && command -v strace >/dev/null; then
  STRACE="$RUN_DIR/connect.strace"
fi

STRACE_PID=""
cleanup() {
  set +e
  if [ -d "$KWOK_WORKDIR/clusters/$NAME" ]; then
    cp -r "$KWOK_WORKDIR/clusters/$NAME/logs" "$RUN_DIR/logs" 2>/dev/null
    inns kwokctl --name "$NAME" delete cluster >"$RUN_DIR/delete.log" 2>&1
  fi
  [ -n "$STRACE_PID" ] && wait "$STRACE_PID" 2>/dev/null
  [ -n "$NETNS" ] && ip netns delete "$NETNS"
  if [ "${KEEP_RUN_DIR:-0}" = 1 ]; then say "kept $RUN_DIR (logs/, create.log, connect.strace)"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT

create=(kwokctl --config "$CONFIG" --name "$NAME" create cluster --kubeconfig "$KUBECONFIG"
  --kube-apiserver-binary "$BIN/kube-apiserver"
  --kube-controller-manager-binary "$BIN/kube-controller-manager"
  --kube-scheduler-binary "$BIN/kube-scheduler"
  --kwok-controller-binary "$BIN/kwok"
  --etcd-binary "$BIN/etcd")

say "creating cluster $NAME (netns: ${NETNS:-none}, connect() trace: ${STRACE:-off})"
T0=$(now)
if [ -n "$STRACE" ]; then
  # strace follows the daemonised components until `delete cluster` stops them.
  inns strace -f --seccomp-bpf -qq -e trace=connect -e signal=none -o "$STRACE" "${create[@]}" \
    >"$RUN_DIR/create.log" 2>&1 &
  STRACE_PID=$!
  while kill -0 "$STRACE_PID" 2>/dev/null && ! grep -q '"Cluster is started"' "$RUN_DIR/create.log"; do
    sleep 0.2
  done
  grep -q '"Cluster is started"' "$RUN_DIR/create.log" || { cat "$RUN_DIR/create.log" >&2; die "kwokctl create failed"; }
else
  inns "${create[@]}" >"$RUN_DIR/create.log" 2>&1 || { cat "$RUN_DIR/create.log" >&2; die "kwokctl create failed"; }
fi
T_CREATE=$(since "$T0")
grep -i 'download' "$RUN_DIR/create.log" >&2 && die "kwokctl tried to download something"

until kc get --raw /readyz >/dev/null 2>&1; do
  [ "$(since "$T0" | cut -d. -f1)" -lt 120 ] || die "apiserver not ready after 120 s"
  sleep 0.2
done
T_READY=$(since "$T0")
say "kwokctl create returned after ${T_CREATE} s; apiserver /readyz ok after ${T_READY} s"

T1=$(now)
kc apply -f - >&2 <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-0}
  annotations: {kwok.x-k8s.io/node: fake}
spec:
  # no podCIDR: kwok then hands out pod IPs from its --cidr (127.64.0.0/16, see kwokctl-config.yaml)
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: probe, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers: [{name: mc, image: fake-minecraft:1, ports: [{containerPort: 25565}]}]
EOF
# (Right after startup the "default" ServiceAccount may not exist yet; the ReplicaSet controller
# retries pod creation on its own, so rollout status just takes a little longer then.)
kc rollout status deploy/probe --timeout=120s >&2 || die "deployment did not roll out"
T_PODS=$(since "$T1")
kc get nodes -o wide >&2
kc get pods -o wide >&2
ips=$(kc get pods -l app=probe -o jsonpath='{range .items[*]}{.status.phase}={.status.podIP}{"\n"}{end}')
n=0
while IFS='=' read -r phase ip; do
  [ -z "$phase" ] && continue
  [ "$phase" = Running ] || die "pod phase $phase"
  [[ "$ip" == 127.* ]] || die "pod IP $ip is not loopback"
  n=$((n + 1))
done <<<"$ips"
[ "$n" = 3 ] || die "expected 3 Running pods, saw $n"
say "3 pods Running with loopback IPs ($(echo "$ips" | cut -d= -f2 | paste -sd' ')) ${T_PODS} s after apply"

rss_total=0
for pidfile in "$KWOK_WORKDIR/clusters/$NAME"/pids/*.pid; do
  pid=$(cat "$pidfile")
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  rss_total=$((rss_total + rss))
  say "$(printf 'RSS %-24s %6d MiB' "$(basename "$pidfile" .pid)" $((rss / 1024)))"
done
say "$(printf 'RSS %-24s %6d MiB' total $((rss_total / 1024)))"

cp -r "$KWOK_WORKDIR/clusters/$NAME/logs" "$RUN_DIR/logs"  # `delete cluster` removes them
T2=$(now)
inns kwokctl --name "$NAME" delete cluster >"$RUN_DIR/delete.log" 2>&1 || die "kwokctl delete failed"
say "deleted cluster in $(since "$T2") s"
if [ -n "$STRACE" ]; then
  wait "$STRACE_PID" 2>/dev/null || true
  STRACE_PID=""
  total=$(grep -c 'connect(' "$STRACE" || true)
  bad=$(grep 'connect(' "$STRACE" | grep -E 'sa_family=AF_INET6?' |
    grep -v -E 'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|"::ffff:127\.' || true)
  if [ -n "$bad" ]; then
    printf '%s\n' "$bad" | head -20 >&2
    die "$(printf '%s\n' "$bad" | wc -l) connect() calls to non-loopback addresses (of $total)"
  fi
  say "strace: $total connect() calls, all to loopback"
fi
say "OK"
