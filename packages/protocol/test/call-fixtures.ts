// Real-looking WebRTC SDPs for the call tests (docs/protocol/11 §11.2.4): the shape Chromium's
// RTCPeerConnection produces for an audio-only call once ICE gathering has finished (a host, a srflx and a
// TCP candidate, the DTLS fingerprint, Opus with RED/G.722/PCMU/PCMA/CN/telephone-event, the four header
// extensions Chromium offers for audio). Written by hand for the tests; addresses are documentation ranges.

/** `sha-256` + 32 colon-separated upper-case hex pairs of `bytes` (RFC 8122 §5). */
export function fingerprintOf(bytes: Uint8Array, upper = true): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return `sha-256 ${upper ? hex.toUpperCase() : hex}`;
}

/** 32 bytes derived from a label, as a stand-in for a certificate digest. */
export function digestBytes(label: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (label * 37 + i * 11 + 5) & 0xff);
}

export interface SdpOptions {
  /** The fingerprint line's value after `a=fingerprint:`. */
  readonly fingerprint?: string;
  /** Keep Chromium's `a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level` line (default false). */
  readonly audioLevel?: boolean;
  /** Line ending (Chromium writes CRLF). */
  readonly eol?: string;
  readonly host?: string;
  readonly sessionId?: string;
}

const DEFAULT_OFFER_FP = fingerprintOf(digestBytes(1));
const DEFAULT_ANSWER_FP = fingerprintOf(digestBytes(2));

/** A complete Chromium-style audio offer (setup:actpass). */
export function chromiumOffer(o: SdpOptions = {}): string {
  const host = o.host ?? '192.0.2.10';
  const lines = [
    'v=0',
    `o=- ${o.sessionId ?? '4611731400430051336'} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS 6c0e7a9d-3b1f-4f38-9e41-2a4f0b7c5d11',
    'm=audio 51472 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    `c=IN IP4 ${host}`,
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:1467250027 1 udp 2122260223 ${host} 51472 typ host generation 0 network-id 1 network-cost 10`,
    `a=candidate:2932384129 1 udp 1686052607 203.0.113.45 51472 typ srflx raddr ${host} rport 51472 generation 0 network-id 1 network-cost 10`,
    `a=candidate:235373867 1 tcp 1518280447 ${host} 9 typ host tcptype active generation 0 network-id 1 network-cost 10`,
    'a=end-of-candidates',
    'a=ice-ufrag:Zq2n',
    'a=ice-pwd:Hx3yV9n3cYqT6pW0xL1bG5rA',
    'a=ice-options:trickle',
    `a=fingerprint:${o.fingerprint ?? DEFAULT_OFFER_FP}`,
    'a=setup:actpass',
    'a=mid:0',
    ...(o.audioLevel === true ? ['a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level'] : []),
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    'a=msid:6c0e7a9d-3b1f-4f38-9e41-2a4f0b7c5d11 0f3c9b2e-8d47-4b6a-a1e5-7c2d9f4e6b30',
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
    'a=ssrc:3735928559 cname:q2X8hV0kP7bL4mNd',
    'a=ssrc:3735928559 msid:6c0e7a9d-3b1f-4f38-9e41-2a4f0b7c5d11 0f3c9b2e-8d47-4b6a-a1e5-7c2d9f4e6b30',
  ];
  const eol = o.eol ?? '\r\n';
  return lines.join(eol) + eol;
}

/** A complete Chromium-style audio answer (setup:active). */
export function chromiumAnswer(o: SdpOptions = {}): string {
  const host = o.host ?? '198.51.100.23';
  const lines = [
    'v=0',
    `o=- ${o.sessionId ?? '8269301745512093417'} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS 9a1d4e27-5c3b-4e8f-b06a-1f2e3d4c5b6a',
    'm=audio 40123 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    `c=IN IP4 ${host}`,
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:3019518764 1 udp 2122260223 ${host} 40123 typ host generation 0 network-id 1`,
    'a=end-of-candidates',
    'a=ice-ufrag:u9Fe',
    'a=ice-pwd:cQ7nW2kR5tY8pL3xZ6vB1mN4',
    'a=ice-options:trickle',
    `a=fingerprint:${o.fingerprint ?? DEFAULT_ANSWER_FP}`,
    'a=setup:active',
    'a=mid:0',
    ...(o.audioLevel === true ? ['a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level'] : []),
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    'a=msid:9a1d4e27-5c3b-4e8f-b06a-1f2e3d4c5b6a 7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928',
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
    'a=ssrc:1592653589 cname:Lm3Qv8Ty1Rz6Wk0P',
  ];
  const eol = o.eol ?? '\r\n';
  return lines.join(eol) + eol;
}
