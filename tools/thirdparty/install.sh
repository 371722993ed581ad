#!/usr/bin/env bash
# Two Minecraft servers mcproof did not write, for the third-party target tests
# (tests/integration/test_thirdparty_servers.py, docs/third-party-servers.md):
#   flying-squid  (npm, Node.js; exact pins in flying-squid/package-lock.json, installed with `npm ci`)
#   Minestom      (Maven, Java 25+; pinned in minestom/pom.xml, jars copied with mvn, our launcher compiled)
#
# Idempotent and cached: $MCPROOF_CACHE/thirdparty/{flying-squid,minestom} (default ~/.cache/mcproof), each with
# a stamp of the inputs' hash; a second run with the same inputs does nothing. The Java used is written to
# minestom/java-home. Knobs: MCPROOF_CACHE, MCPROOF_JAVA_HOME (a JDK 25+, else the first found).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

MCPROOF_CACHE=${MCPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcproof}
ROOT="$MCPROOF_CACHE/thirdparty"

say() { printf '[thirdparty] %s\n' "$*" >&2; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9

install_flying_squid() {
  local dir="$ROOT/flying-squid" src="$here/flying-squid" want
  want=$(digest "$src/package.json" "$src/package-lock.json" "$src/start.js")
  [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] && return 0
  command -v node >/dev/null && command -v npm >/dev/null || { say "node/npm not found; install Node.js 20+ and retry"; exit 1; }
  say "installing flying-squid with npm ci into $dir (one time)"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$src/start.js" "$dir/"
  # minecraft-protocol 1.68 declares node >=22; its server side runs on Node 20 (docs/third-party-servers.md)
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error --engine-strict=false >&2)
  echo "$want" > "$dir/.stamp"
}

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }

find_java() {
  local home
  for home in ${MCPROOF_JAVA_HOME:-} ${JAVA_HOME:-} /usr/lib/jvm/*; do
    [ -x "$home/bin/javac" ] || continue
    [ "$(java_major "$home")" -ge 25 ] 2>/dev/null && { echo "$home"; return 0; }
  done
  return 1
}

install_minestom() {
  local dir="$ROOT/minestom" src="$here/minestom" want java_home
  java_home=$(find_java) || { say "no JDK 25+ found (Minestom needs Java 25); set MCPROOF_JAVA_HOME to one and retry"; exit 1; }
  want=$(printf '%s\n' "$java_home" | cat - "$src/pom.xml" "$src/McproofMinestom.java" | sha256sum | cut -d' ' -f1)
  [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] && return 0
  command -v mvn >/dev/null || { say "mvn not found; install Maven and retry"; exit 1; }
  say "installing Minestom with mvn into $dir (one time)"
  rm -rf "$dir" && mkdir -p "$dir/classes"
  cp "$src/pom.xml" "$dir/"
  (cd "$dir" && mvn -B -q -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$dir/lib" >&2)
  "$java_home/bin/javac" -d "$dir/classes" -cp "$dir/lib/*" "$src/McproofMinestom.java"
  echo "$java_home" > "$dir/java-home"
  echo "$want" > "$dir/.stamp"
}

install_flying_squid
install_minestom
say "ready: $ROOT"
echo "$ROOT"
