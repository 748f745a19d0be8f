# syntax=docker/dockerfile:1
# Ferry: TURN/STUN relay and signaling service.
#
#   docker build -t ferry .
#   docker run -d --name ferry --network host \
#     -v /etc/ferry/config.json:/etc/ferry/config.json:ro -v ferry-data:/var/lib/ferry ferry
#
# Real deployments use --network host: a relay needs one UDP port per allocation and the
# addresses it advertises must be the host's, which port publishing (-p) and Docker's NAT get in
# the way of. The config must keep its SQLite file on the volume, and its pid file in /run/ferry so
# that `ferry` commands in the container find the running process (the default config does both):
#   "storage": "sqlite:/var/lib/ferry/ferry.db", "pid_file": "/run/ferry/ferry.pid"
# Then, e.g.: docker exec ferry ferry status --config /etc/ferry/config.json

# --- build: compile TypeScript, the native data plane and the native better-sqlite3 addon ----------
FROM node:24-bookworm-slim AS build
# Toolchain for node-gyp: it builds Ferry's native data plane (binding.gyp, native/src/) and
# better-sqlite3 when that has no prebuilt binary for this Node/platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The sources come before `npm ci`: it runs the `prepare` script (npm run build: tsc with
# tsconfig.build.json, then the SDK and console bundles), which needs them. Only the product is copied (no test/
# or bench/), so dist/ holds only what Ferry runs, /sdk/ferry.js and /console included.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build-sdk.js scripts/build-console.js ./scripts/
# npm ci's install script (scripts/build-native.js) builds the native data plane from these.
COPY scripts/build-native.js ./scripts/build-native.js
COPY binding.gyp ./
COPY native/src ./native/src
COPY bin ./bin
COPY turn ./turn
COPY signaling ./signaling
COPY src ./src
COPY app ./app
COPY client ./client
COPY protocol ./protocol
COPY console ./console
# The image has the toolchain: a native data plane that does not build fails the image build
# instead of leaving the image on the TypeScript data path.
RUN FERRY_NATIVE_REQUIRED=1 npm ci
RUN npm prune --omit=dev

# --- runtime ---------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FERRY_HEALTHZ_URL=http://127.0.0.1:8080/healthz
# A fixed uid/gid (10001) so volume and mounted-file permissions can be set from the host.
RUN groupadd --gid 10001 ferry \
 && useradd --uid 10001 --gid ferry --home-dir /var/lib/ferry --no-create-home --shell /usr/sbin/nologin ferry \
 && mkdir -p /var/lib/ferry /etc/ferry /run/ferry \
 && chown ferry:ferry /var/lib/ferry /run/ferry
WORKDIR /opt/ferry
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/build/Release/ferry_native.node ./build/Release/ferry_native.node
# `ferry` on the PATH, for `docker exec <container> ferry ...`.
RUN ln -s /opt/ferry/bin/ferry.js /usr/local/bin/ferry
# Default config: embedded defaults with the accounts database on the volume and the pid file in
# /run/ferry. Mount your own config over it (it must set "storage" to a path under /var/lib/ferry
# and "pid_file" to /run/ferry/ferry.pid too).
COPY deploy/config.json /etc/ferry/config.json
USER ferry

# STUN/TURN over UDP and TCP, TURN over TLS (when tls_address is set), signaling HTTP/WebSocket.
EXPOSE 3478/udp 3478/tcp 5349/tcp 8080/tcp
# Relayed addresses: for a bridge network, narrow relay_ports to a small range such as this one and
# publish it (-p 49152-49252:49152-49252/udp) with external_ip set to the host's public IP. Real
# deployments use --network host instead and size relay_ports to the expected allocations.
EXPOSE 49152-49252/udp
VOLUME /var/lib/ferry

# GET /healthz of the signaling service; set FERRY_HEALTHZ_URL when signaling.address is not :8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.FERRY_HEALTHZ_URL, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/ferry.js"]
CMD ["start", "--fg", "--config", "/etc/ferry/config.json"]
