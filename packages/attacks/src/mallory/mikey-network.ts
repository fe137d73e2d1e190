// Mallory's telephone network for the MIKEY-SAKKE scenarios: a provider-run signalling proxy and media relay
// on loopback UDP, through which every byte of every call passes and is recorded. MIKEY-SAKKE deployments are
// provider networks (the KMS operator usually runs the call control as well), so the recorder sits exactly where
// a provider, a lawful-interception tap or an attacker inside the provider would sit.
//
// What is modelled, honestly:
//   * signalling is SIP-like text, one UDP datagram per message (not real SIP): `INVITE <to-uri>` carrying the
//     I_MESSAGE in an RFC 4567 §3.1 `a=key-mgmt:mikey <base64>` line, answered by `ANSWER` or `REJECT`, which go
//     back to where the INVITE came from (SIP's Via); each message names the caller's or callee's media address
//     on a `Media:` line (the SDP c=/m= stand-in);
//   * media is SRTP (RFC 3711, src/internal/srtp.ts) in UDP datagrams, sent to the relay, which forwards them
//     between the two media addresses it learned from the signalling (like an SBC or a TURN relay);
//   * routing is the provider's: `divert(uri, address)` makes calls to `uri` reach another phone (mallory's).
// The relay never decrypts anything by itself; the attacks decide what mallory knows.
import type { RemoteInfo, Socket } from 'node:dgram';
import { AttacksError } from '../errors.ts';
import { MAX_CAPTURE_BYTES, MAX_DATAGRAM_BYTES } from '../limits.ts';
import { bindLoopback, closeSocket } from '../internal/udp.ts';

/** RFC 4567 §3.1: the SDP attribute that carries a MIKEY message, base64-encoded, in an INVITE's body. */
export const KEY_MGMT_PREFIX = 'a=key-mgmt:mikey ';

/** A UDP address on loopback. */
export interface UdpAddress {
  readonly address: string;
  readonly port: number;
}

/** One recorded datagram, exactly as it arrived at the relay (before any tampering). */
export interface CapturedDatagram {
  readonly n: number;
  readonly channel: 'signalling' | 'media';
  readonly from: string;
  readonly bytes: Uint8Array;
  /** The scenario's simulated clock when the datagram passed (calls happen on chosen dates). */
  readonly atMs: number;
}

/** What mallory may do to a signalling datagram in flight: pass it on changed, or drop it. */
export type SignallingTamper = (bytes: Uint8Array) => Uint8Array | 'drop';

export function addressKey(a: UdpAddress): string {
  return `${a.address}:${a.port}`;
}

export function sendDatagram(socket: Socket, bytes: Uint8Array, to: UdpAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(bytes, to.port, to.address, (err) => {
      if (err) reject(new AttacksError('ERR_ATTACKS_NETWORK', 'UDP send failed', { cause: err }));
      else resolve();
    });
  });
}

const text = new TextDecoder();

/** The first line's target URI and the `Media:` address of a signalling message, or undefined. */
export function parseSignalling(bytes: Uint8Array): { method: string; target: string; headers: Map<string, string>; body: string } | undefined {
  const message = text.decode(bytes);
  const split = message.indexOf('\r\n\r\n');
  const head = split < 0 ? message : message.slice(0, split);
  const body = split < 0 ? '' : message.slice(split + 4);
  const [first, ...lines] = head.split('\r\n');
  const m = /^(INVITE|ANSWER|REJECT) (\S+)$/.exec(first ?? '');
  if (m === null) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { method: m[1] ?? '', target: m[2] ?? '', headers, body };
}

export function parseAddress(value: string | undefined): UdpAddress | undefined {
  const m = /^(127\.0\.0\.1):(\d{1,5})$/.exec(value ?? '');
  return m === null ? undefined : { address: m[1] ?? '', port: Number(m[2]) };
}

export class MikeyNetwork {
  readonly #signalling: Socket;
  readonly #media: Socket;
  readonly #clock: () => number;
  readonly #phones = new Map<string, UdpAddress>();
  readonly #diverted = new Map<string, { to: UdpAddress; exceptFrom: string | undefined }>();
  /** media address → the media address it talks to (learned from INVITE/ANSWER of the same Call-ID). */
  readonly #mediaPeer = new Map<string, UdpAddress>();
  readonly #pendingMedia = new Map<string, UdpAddress>();
  /** Call-ID → where its INVITE came from: answers go back there (SIP's Via, modelled). */
  readonly #inviteSource = new Map<string, UdpAddress>();
  readonly #capture: CapturedDatagram[] = [];
  #captureBytes = 0;
  #tamper: SignallingTamper | undefined;
  #failure: unknown;

  private constructor(signalling: Socket, media: Socket, clock: () => number) {
    this.#signalling = signalling;
    this.#media = media;
    this.#clock = clock;
    signalling.on('message', (msg, rinfo) => {
      this.#onSignalling(new Uint8Array(msg), rinfo).catch((e: unknown) => {
        this.#failure ??= e;
      });
    });
    media.on('message', (msg, rinfo) => {
      this.#onMedia(new Uint8Array(msg), rinfo).catch((e: unknown) => {
        this.#failure ??= e;
      });
    });
  }

  /** Starts the relay on two ephemeral loopback ports; `clock` stamps the capture with scenario time. */
  static async start(clock: () => number): Promise<MikeyNetwork> {
    const [signalling, media] = await Promise.all([bindLoopback(), bindLoopback()]);
    return new MikeyNetwork(signalling, media, clock);
  }

  get signallingAddress(): UdpAddress {
    const a = this.#signalling.address();
    return { address: a.address, port: a.port };
  }

  get mediaAddress(): UdpAddress {
    const a = this.#media.address();
    return { address: a.address, port: a.port };
  }

  /** A phone registers the address its signalling socket listens on (SIP REGISTER, modelled). */
  register(uri: string, address: UdpAddress): void {
    this.#phones.set(uri, address);
  }

  /** The provider routes calls for `uri` to another phone — except calls placed from `exceptFrom` (mallory's own). */
  divert(uri: string, address: UdpAddress, exceptFrom?: UdpAddress): void {
    this.#diverted.set(uri, { to: address, exceptFrom: exceptFrom === undefined ? undefined : addressKey(exceptFrom) });
  }

  #inviteTarget(uri: string, from: RemoteInfo): UdpAddress | undefined {
    const diversion = this.#diverted.get(uri);
    if (diversion !== undefined && diversion.exceptFrom !== `${from.address}:${from.port}`) return diversion.to;
    return this.#phones.get(uri);
  }

  /** Mallory's hook on signalling in flight (undefined: relay unchanged). Applied after recording. */
  setSignallingTamper(tamper: SignallingTamper | undefined): void {
    this.#tamper = tamper;
  }

  /** Every datagram that reached the relay, in order: what a recorder at the provider holds. */
  get capture(): readonly CapturedDatagram[] {
    return this.#capture;
  }

  /** Mallory sends raw bytes from the relay's signalling socket to a registered phone (e.g. a replay). */
  async injectSignalling(toUri: string, bytes: Uint8Array): Promise<void> {
    const to = this.#phones.get(toUri);
    if (to === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', 'inject: no phone registered under that URI');
    await sendDatagram(this.#signalling, bytes, to);
  }

  /** Mallory sends raw bytes from the relay's media socket to a media address (e.g. replayed SRTP). */
  async injectMedia(to: UdpAddress, bytes: Uint8Array): Promise<void> {
    await sendDatagram(this.#media, bytes, to);
  }

  /** Throws the first internal failure of the relay, if any (so a broken relay fails the scenario). */
  checkHealthy(): void {
    if (this.#failure !== undefined) throw new AttacksError('ERR_ATTACKS_NETWORK', 'the MIKEY relay failed', { cause: this.#failure });
  }

  async close(): Promise<void> {
    await Promise.all([this.#signalling, this.#media].map(closeSocket));
  }

  #record(channel: CapturedDatagram['channel'], bytes: Uint8Array, from: RemoteInfo): void {
    if (bytes.length > MAX_DATAGRAM_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', `datagram of ${bytes.length} bytes exceeds MAX_DATAGRAM_BYTES`);
    this.#captureBytes += bytes.length;
    if (this.#captureBytes > MAX_CAPTURE_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', 'capture exceeds MAX_CAPTURE_BYTES');
    this.#capture.push({ n: this.#capture.length, channel, from: `${from.address}:${from.port}`, bytes: bytes.slice(), atMs: this.#clock() });
  }

  async #onSignalling(bytes: Uint8Array, from: RemoteInfo): Promise<void> {
    this.#record('signalling', bytes, from);
    const tampered = this.#tamper === undefined ? bytes : this.#tamper(bytes);
    if (tampered === 'drop') return;
    const msg = parseSignalling(tampered);
    if (msg === undefined) return; //                                          not signalling: dropped, as a proxy would
    const callId = msg.headers.get('call-id') ?? '';
    if (msg.method === 'INVITE' && !this.#inviteSource.has(callId)) this.#inviteSource.set(callId, { address: from.address, port: from.port });
    const to = msg.method === 'INVITE' ? this.#inviteTarget(msg.target, from) : this.#inviteSource.get(callId);
    if (to === undefined) return;
    const media = parseAddress(msg.headers.get('media'));
    if (media !== undefined && msg.method === 'INVITE') this.#pendingMedia.set(callId, media);
    if (media !== undefined && msg.method === 'ANSWER') {
      const caller = this.#pendingMedia.get(callId);
      if (caller !== undefined) {
        this.#mediaPeer.set(addressKey(caller), media);
        this.#mediaPeer.set(addressKey(media), caller);
      }
    }
    await sendDatagram(this.#signalling, tampered, to);
  }

  async #onMedia(bytes: Uint8Array, from: RemoteInfo): Promise<void> {
    this.#record('media', bytes, from);
    const to = this.#mediaPeer.get(`${from.address}:${from.port}`);
    if (to !== undefined) await sendDatagram(this.#media, bytes, to);
  }
}
