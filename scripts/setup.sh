#!/usr/bin/env bash
# Prepares a machine for `npm test` (it runs as the pretest script). Idempotent: a second run
# only checks and returns in about a second.
#   - installs the Debian packages the tests need, only those missing (needs root and apt-get);
#   - makes sure coturn's own service is not running (its turnserver would hold port 3478);
#   - runs `npm ci` when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
# Native addons (better-sqlite3, ...) compile against the local Node headers instead of downloading them.
export npm_config_nodedir=/usr

log() { printf 'setup: %s\n' "$*"; }

# --- Debian packages: command the tests use -> package that provides it -----------------------
declare -A NEEDED=(
  [turnserver]=coturn
  [turnutils_uclient]=coturn
  [turnutils_peer]=coturn
  [chromium]=chromium
  [ip]=iproute2
  [iptables]=iptables
  [nginx]=nginx-light
  [systemd-analyze]=systemd
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  pkg=${NEEDED[$cmd]}
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ " ${missing[*]-} " != *" $pkg "* ]]; then missing+=("$pkg"); fi
done

installed_coturn=no
if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "skipping apt (not root or no apt-get); missing packages: ${missing[*]} (tests that need them will fail)"
else
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  [[ " ${missing[*]} " == *" coturn "* ]] && installed_coturn=yes
fi

# --- coturn's service must not run: tests start their own turnserver on their own ports --------
if command -v turnserver >/dev/null 2>&1; then
  if [ "$installed_coturn" = yes ] && [ "$(id -u)" -eq 0 ]; then
    # Keep it from starting at boot too.
    if [ -d /run/systemd/system ]; then
      systemctl disable --quiet coturn 2>/dev/null || true
    elif command -v update-rc.d >/dev/null 2>&1; then
      update-rc.d coturn disable >/dev/null 2>&1 || true
    fi
  fi
  if [ -d /run/systemd/system ] && systemctl is-active --quiet coturn 2>/dev/null; then
    log "stopping the coturn service"
    systemctl stop coturn || true
  fi
  # Without systemd: the init script's pid file. (Not `service coturn stop`: that script also
  # kills every turnserver process on the machine, including ones other tests started.)
  stop_pid() {
    local pid=$1
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = turnserver ] || return 0
    log "stopping turnserver (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  }
  for pidfile in /run/turnserver.pid /var/run/turnserver.pid; do
    [ -r "$pidfile" ] && stop_pid "$(tr -dc 0-9 <"$pidfile")"
  done
  # Any turnserver still listening on the default port 3478 is the service's, not a test's.
  if command -v ss >/dev/null 2>&1; then
    for pid in $(ss -Hlnptu 'sport = :3478' 2>/dev/null | grep -o '"turnserver",pid=[0-9]*' | grep -o '[0-9]*$' | sort -u); do
      stop_pid "$pid"
    done
  fi
fi

# --- nginx: only its binary is used (test/system/deploy/deploy.test.ts runs its own instances) ------------
if [ -r /run/nginx.pid ] && [ "$(id -u)" -eq 0 ]; then
  pid=$(tr -dc 0-9 </run/nginx.pid)
  if [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = nginx ]; then
    log "stopping the nginx service the package started"
    kill "$pid" 2>/dev/null || true
  fi
fi

# --- npm dependencies ----------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci
fi
log "ok"
