// The bare Node dgram relay: the ceiling Ferry's data path is measured against. No TURN logic
// at all: ChannelData from a client → strip the 4-byte header → send from a per-client socket
// to the peer; the reverse adds the header. Same socket settings as Ferry (4 MB buffers,
// synchronous lookup), so the only difference is Ferry's TURN work. Driven by the loadgen's
// raw mode (-R). Usage: node dist/bench/bare-relay.js LISTEN_PORT PEER_PORT
import { createSocket, type Socket } from 'node:dgram';
import { syncLookup } from '../turn/sync-lookup.js';

const [listenPort, peerPort] = process.argv.slice(2).map(Number);
if (!(listenPort > 0) || !(peerPort > 0)) {
  console.error('usage: bare-relay LISTEN_PORT PEER_PORT');
  process.exit(64);
}
const listener = createSocket({ type: 'udp4', lookup: syncLookup });
const clients = new Map<string, Map<number, Socket>>();

listener.on('message', (msg, from) => {
  if (msg.length < 4) return;
  let byPort = clients.get(from.address);
  if (byPort === undefined) clients.set(from.address, (byPort = new Map()));
  let relay = byPort.get(from.port);
  if (relay === undefined) {
    const address = from.address;
    const port = from.port;
    const channel = msg.readUInt16BE(0);
    const r = createSocket({ type: 'udp4', lookup: syncLookup });
    r.bind(0, '127.0.0.1');
    r.on('message', (data) => {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt16BE(channel, 0);
      header.writeUInt16BE(data.length, 2);
      listener.send([header, data], port, address);
    });
    byPort.set(from.port, r);
    relay = r;
  }
  relay.send(msg, 4, msg.length - 4, peerPort, '127.0.0.1');
});
listener.bind(listenPort, '127.0.0.1', () => {
  listener.setRecvBufferSize(4 << 20);
  listener.setSendBufferSize(4 << 20);
  console.log('ready');
});
