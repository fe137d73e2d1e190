// Mallory's media relay for the Sotto-calls scenarios: a TURN-like relay on loopback UDP (docs/scorecard.md §4,
// "Sotto calls"). Sotto's SDPs travel inside sealed session messages (docs/protocol/11 §11.6), so unlike the
// MIKEY-SAKKE network's relay (mikey-network.ts), this one cannot learn who talks to whom from the signalling.
// It works the way a TURN server does (RFC 8656 §2): each endpoint asks for an allocation — a relayed transport
// address on the relay — and names that address in its SDP (`a=candidate … typ relay`); whatever reaches an
// allocation is forwarded to the endpoint that owns it. Every datagram in both directions therefore passes
// through the relay, is recorded byte for byte, and can be rewritten, dropped or injected by mallory. The server
// run by mallory is Sotto's, so this is also where a provider that operates the TURN service sits (§11.7).
//
// What is not modelled: the TURN protocol itself (Allocate, permissions, channel framing) and the DTLS-SRTP layer a
// WebRTC stack puts around each frame; a datagram here carries one SFrame frame and nothing else, the worst case
// for the endpoints (the relay sees exactly what SFrame protects).
import type { RemoteInfo, Socket } from 'node:dgram';
import { AttacksError } from '../errors.ts';
import { MAX_CAPTURE_BYTES, MAX_DATAGRAM_BYTES } from '../limits.ts';
import { addressKey, sendDatagram, type UdpAddress } from './mikey-network.ts';
import { bindLoopback, closeSocket } from '../internal/udp.ts';

/** One datagram as it reached an allocation (before any rewrite), or as mallory injected it. */
export interface RelayedDatagram {
  readonly n: number;
  /** The relayed address it was sent to ("127.0.0.1:port"), i.e. which endpoint it was for. */
  readonly allocation: string;
  /** Where it came from ("127.0.0.1:port"; "mallory" for an injected datagram). */
  readonly from: string;
  readonly bytes: Uint8Array;
  readonly injected: boolean;
}

/** Mallory's hook on media in flight, applied after recording: rewrite it, drop it, or pass it (undefined). */
export type MediaTamper = (d: { readonly allocation: string; readonly bytes: Uint8Array }) => Uint8Array | 'drop' | undefined;

interface Allocation {
  readonly socket: Socket;
  readonly owner: UdpAddress;
}

export class CallRelay {
  readonly #allocations = new Map<string, Allocation>();
  readonly #capture: RelayedDatagram[] = [];
  #bytes = 0;
  #tamper: MediaTamper | undefined;
  #failure: unknown;

  /** A relayed address whose datagrams are forwarded to `owner` (a TURN allocation, RFC 8656 §7). */
  async allocate(owner: UdpAddress): Promise<UdpAddress> {
    const socket = await bindLoopback();
    const a = socket.address();
    const relayed = { address: a.address, port: a.port };
    const key = addressKey(relayed);
    this.#allocations.set(key, { socket, owner });
    socket.on('message', (msg, rinfo) => {
      this.#onDatagram(key, new Uint8Array(msg), rinfo).catch((e: unknown) => {
        this.#failure ??= e;
      });
    });
    return relayed;
  }

  /** Every datagram that reached an allocation or was injected, in order: what the relay's operator holds. */
  get capture(): readonly RelayedDatagram[] {
    return this.#capture;
  }

  setTamper(tamper: MediaTamper | undefined): void {
    this.#tamper = tamper;
  }

  /** Mallory sends `bytes` to the endpoint behind the relayed address `allocation`, as if a peer had sent them. */
  async inject(allocation: string, bytes: Uint8Array): Promise<void> {
    const a = this.#allocations.get(allocation);
    if (a === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', 'inject: no such allocation on the relay');
    this.#record({ allocation, from: 'mallory', bytes, injected: true });
    await sendDatagram(a.socket, bytes, a.owner);
  }

  /** Throws the first internal failure of the relay, if any (so a broken relay fails the scenario). */
  checkHealthy(): void {
    if (this.#failure !== undefined) throw new AttacksError('ERR_ATTACKS_NETWORK', 'the call relay failed', { cause: this.#failure });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#allocations.values()].map((a) => closeSocket(a.socket)));
    this.#allocations.clear();
  }

  #record(d: Omit<RelayedDatagram, 'n'>): void {
    if (d.bytes.length > MAX_DATAGRAM_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', `datagram of ${d.bytes.length} bytes exceeds MAX_DATAGRAM_BYTES`);
    this.#bytes += d.bytes.length;
    if (this.#bytes > MAX_CAPTURE_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', 'capture exceeds MAX_CAPTURE_BYTES');
    this.#capture.push({ ...d, bytes: d.bytes.slice(), n: this.#capture.length });
  }

  async #onDatagram(allocation: string, bytes: Uint8Array, from: RemoteInfo): Promise<void> {
    this.#record({ allocation, from: `${from.address}:${from.port}`, bytes, injected: false });
    const a = this.#allocations.get(allocation);
    if (a === undefined) return;
    const out = this.#tamper?.({ allocation, bytes }) ?? bytes;
    if (out === 'drop') return;
    await sendDatagram(a.socket, out, a.owner);
  }
}
