// Real-looking WebRTC SDPs for the call tests (docs/protocol/11 §11.2.4): the shape Chromium's
// RTCPeerConnection produces for an audio-only call once ICE gathering has finished (the offer with a
// host, a srflx and a TCP candidate, the answer with a host candidate; the DTLS fingerprint; Opus with
// RED/G.722/PCMU/PCMA/CN/telephone-event; the header extensions Chromium offers for audio). Written by
// hand for the tests; addresses are documentation ranges. Used by @sotto/protocol's and @sotto/client's
// call tests alike.

/** `sha-256` + 32 colon-separated hex pairs of `bytes` (RFC 8122 §5), upper-case unless `upper` is
 *  false: with upper case, the canonical form docs/protocol/11 §11.2.4 gives (sdpFingerprint's output). */
export function fingerprintOf(bytes: Uint8Array, upper = true): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return `sha-256 ${upper ? hex.toUpperCase() : hex}`;
}

/** 32 bytes derived from a label, as a stand-in for a certificate digest. */
export function digestBytes(label: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (label * 37 + i * 11 + 5) & 0xff);
}

export interface SdpOptions {
  /** The fingerprint line's value after `a=fingerprint:` (default: fingerprintOf(digestBytes(1)) for
   *  the offer, digestBytes(2) for the answer). */
  readonly fingerprint?: string;
  /** Keep Chromium's `a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level` line (default false). */
  readonly audioLevel?: boolean;
  /** Line ending (Chromium writes CRLF). */
  readonly eol?: string;
  /** The address of the host candidate and the c= line. */
  readonly host?: string;
  /** The media port (m= line and candidates). */
  readonly port?: number;
  readonly sessionId?: string;
  readonly ufrag?: string;
}

/** What differs between Chromium's offer and its answer. */
interface Side {
  readonly setup: 'actpass' | 'active';
  readonly fingerprint: string;
  readonly sessionId: string;
  readonly host: string;
  readonly port: number;
  readonly ufrag: string;
  readonly pwd: string;
  readonly stream: string;
  readonly track: string;
  readonly ssrc: string;
  readonly cname: string;
  readonly candidates: (host: string, port: number) => readonly string[];
  /** Chromium repeats the msid on an a=ssrc line in its offer. */
  readonly ssrcMsid: boolean;
}

const OFFER: Side = {
  setup: 'actpass',
  fingerprint: fingerprintOf(digestBytes(1)),
  sessionId: '4611731400430051336',
  host: '192.0.2.10',
  port: 51472,
  ufrag: 'Zq2n',
  pwd: 'Hx3yV9n3cYqT6pW0xL1bG5rA',
  stream: '6c0e7a9d-3b1f-4f38-9e41-2a4f0b7c5d11',
  track: '0f3c9b2e-8d47-4b6a-a1e5-7c2d9f4e6b30',
  ssrc: '3735928559',
  cname: 'q2X8hV0kP7bL4mNd',
  candidates: (host, port) => [
    `a=candidate:1467250027 1 udp 2122260223 ${host} ${port} typ host generation 0 network-id 1 network-cost 10`,
    `a=candidate:2932384129 1 udp 1686052607 203.0.113.45 ${port} typ srflx raddr ${host} rport ${port} generation 0 network-id 1 network-cost 10`,
    `a=candidate:235373867 1 tcp 1518280447 ${host} 9 typ host tcptype active generation 0 network-id 1 network-cost 10`,
  ],
  ssrcMsid: true,
};

const ANSWER: Side = {
  setup: 'active',
  fingerprint: fingerprintOf(digestBytes(2)),
  sessionId: '8269301745512093417',
  host: '198.51.100.23',
  port: 40123,
  ufrag: 'u9Fe',
  pwd: 'cQ7nW2kR5tY8pL3xZ6vB1mN4',
  stream: '9a1d4e27-5c3b-4e8f-b06a-1f2e3d4c5b6a',
  track: '7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928',
  ssrc: '1592653589',
  cname: 'Lm3Qv8Ty1Rz6Wk0P',
  candidates: (host, port) => [`a=candidate:3019518764 1 udp 2122260223 ${host} ${port} typ host generation 0 network-id 1`],
  ssrcMsid: false,
};

function chromiumSdp(side: Side, o: SdpOptions): string {
  const host = o.host ?? side.host;
  const port = o.port ?? side.port;
  const lines = [
    'v=0',
    `o=- ${o.sessionId ?? side.sessionId} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    `a=msid-semantic: WMS ${side.stream}`,
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126`,
    `c=IN IP4 ${host}`,
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...side.candidates(host, port),
    'a=end-of-candidates',
    `a=ice-ufrag:${o.ufrag ?? side.ufrag}`,
    `a=ice-pwd:${side.pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:${o.fingerprint ?? side.fingerprint}`,
    `a=setup:${side.setup}`,
    'a=mid:0',
    ...(o.audioLevel === true ? ['a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level'] : []),
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    `a=msid:${side.stream} ${side.track}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    `a=ssrc:${side.ssrc} cname:${side.cname}`,
    ...(side.ssrcMsid ? [`a=ssrc:${side.ssrc} msid:${side.stream} ${side.track}`] : []),
  ];
  const eol = o.eol ?? '\r\n';
  return lines.join(eol) + eol;
}

/** A complete Chromium-style audio offer (setup:actpass). */
export function chromiumOffer(o: SdpOptions = {}): string {
  return chromiumSdp(OFFER, o);
}

/** A complete Chromium-style audio answer (setup:active). */
export function chromiumAnswer(o: SdpOptions = {}): string {
  return chromiumSdp(ANSWER, o);
}
