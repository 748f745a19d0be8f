// The PeerJS server (npm `peer`) for bench/signaling.ts, as its README starts it, on loopback.
// alive_timeout is raised so that the bench's peers (which send no HEARTBEAT) stay for the whole
// run, and concurrent_limit so that the idle-peer test fits.
// Usage: node dist/bench/peerjs-server.js PORT
import { PeerServer } from 'peer';

const port = Number(process.argv[2]);
PeerServer({ port, host: '127.0.0.1', path: '/', alive_timeout: 3_600_000, concurrent_limit: 1_000_000 }, () => {
  process.stdout.write(`READY ${port}\n`);
});
