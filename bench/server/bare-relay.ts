// The baseline of the server benchmarks (issue 3): a bare in-memory WebSocket relay, run as its own
// process like the real server. It does what a relay must do and nothing more: a client names itself
// in its first frame; a send frame {to, id, envelope} is forwarded to that client if it is connected,
// and the sender gets {type:'ok', id} back. No authentication, no storage, no fsync, no base64 checks:
// the upper bound a durable, authenticated server is compared against.
//
// The receiver's {type:'ack', ids} frames are parsed and dropped (nothing is stored), and pushes carry
// a seq like Sotto's, so both servers see the same frame traffic. Like Sotto's server (main.ts), it
// corks a socket for the rest of the current pass of callbacks and microtasks when it sends on it, so
// the frames one pass sends to one client leave in one write. It answers the bench's memory probes
// (probe.ts) over the IPC channel when started with one.
//
// Usage: node --expose-gc --import tsx bench/server/bare-relay.ts   → prints "listening <port>" on stdout.
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { answerMemoryProbes } from './probe.ts';

/** Sends a text frame on a client's WebSocket. */
type Send = (text: string) => void;
const clients = new Map<string, Send>();
let seq = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 512 * 1024 });

wss.on('connection', (ws, req) => {
  const socket: Socket = req.socket;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const send: Send = (text) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    ws.send(text);
  };
  let name: string | undefined;
  ws.on('message', (data: Buffer) => {
    let frame: { readonly type: string; readonly name?: string; readonly to?: string; readonly id?: string; readonly envelope?: string };
    try {
      frame = JSON.parse(data.toString('utf8')) as typeof frame;
    } catch {
      ws.close(4400);
      return;
    }
    if (name === undefined) {
      if (frame.type !== 'hello' || typeof frame.name !== 'string') {
        ws.close(4400);
        return;
      }
      name = frame.name;
      clients.set(name, send);
      send('{"type":"ready"}');
      return;
    }
    if (frame.type === 'send' && typeof frame.to === 'string') {
      clients.get(frame.to)?.(JSON.stringify({ type: 'message', seq: ++seq, id: frame.id, envelope: frame.envelope, receivedAt: Date.now() }));
      send(JSON.stringify({ type: 'ok', id: frame.id }));
    }
    // {type:'ack'} from receivers needs no work: nothing is stored
  });
  ws.on('close', () => {
    if (name !== undefined && clients.get(name) === send) clients.delete(name);
  });
});

wss.on('listening', () => {
  answerMemoryProbes();
  const address = wss.address();
  if (address !== null && typeof address === 'object') process.stdout.write(`listening ${address.port}\n`);
});

const stop = (): void => {
  wss.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
