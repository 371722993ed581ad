#!/usr/bin/env bash
# Idempotent bootstrap: a virtualenv in .venv with the locked Python packages and mcproof itself,
# plus any Debian packages named in tools/debian-packages.txt. Re-running does nothing when the
# inputs (lock file, pyproject, package list) have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
stamp="$VENV/.mcproof-bootstrap"

say() { printf '[bootstrap] %s\n' "$*" >&2; }

ensure_debian_packages() {
  local missing=()
  while read -r pkg; do
    [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < tools/debian-packages.txt
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; run 'sudo apt-get install ${missing[*]}' and retry"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local want
  want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
  fi
  say "installing Python packages from requirements.lock (cached by pip)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements.lock
  "$VENV/bin/python" -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
}

ensure_kube_binaries() {
  # kube-apiserver, controller-manager, scheduler, kubectl, etcd, kwok from Go modules (tools/kube/README.md):
  # ~6 min the first time, 0.02 s when cached. MCPROOF_SKIP_KUBE_BUILD=1 skips (Kubernetes tests then fail).
  if [ "${MCPROOF_SKIP_KUBE_BUILD:-0}" = 1 ]; then
    say "skipping the Kubernetes binaries (MCPROOF_SKIP_KUBE_BUILD=1)"
    return 0
  fi
  local bin
  say "Kubernetes binaries: building or reusing (tools/kube/build.sh; the first build takes ~6 min)"
  bin=$(tools/kube/build.sh | tail -n1)
  say "Kubernetes binaries ready in $bin"
}

ensure_debian_packages
ensure_venv
ensure_kube_binaries
tools/checkov/install.sh >/dev/null  # Checkov in its own cached venv (security suite's manifest scan)
tools/actionlint/install.sh >/dev/null  # actionlint for the delivery tests (workflow lint)
tools/thirdparty/install.sh >/dev/null  # flying-squid + Minestom: third-party targets of the integration tests
say "ready: $VENV ($("$VENV/bin/python" -c 'import mcproof, sys; print(sys.version.split()[0])'))"
