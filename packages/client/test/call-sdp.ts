// A realistic WebRTC audio SDP (what Chromium's RTCPeerConnection produces once ICE gathering is
// complete, trimmed to one Opus m-line) with a chosen DTLS fingerprint and ICE credentials: what call
// tests and the content property tests feed through docs/protocol/11 §11.2.4's rules.

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** The SDP of one side: `fingerprint` is the 32-byte SHA-256 of its DTLS certificate. */
export function sampleSdp(opts: { fingerprint: Uint8Array; type: 'offer' | 'answer'; sessionId?: bigint; ufrag?: string; port?: number }): string {
  const fp = [...opts.fingerprint].map(hex2).join(':');
  const port = opts.port ?? 50_000;
  const lines = [
    'v=0',
    `o=- ${opts.sessionId ?? 4_611_731_400_430_051_336n} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126`,
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0 network-id 1`,
    `a=ice-ufrag:${opts.ufrag ?? 'Xa3q'}`,
    'a=ice-pwd:qX0fZ5bVdD7bJ8u7pLh3Ql9a',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fp}`,
    `a=setup:${opts.type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    'a=msid:- 6f0c3e4b-2b8e-4e43-9b8e-1f6d2b1c9a11',
    'a=rtcp-mux',
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
    'a=ssrc:1001 cname:4TOk42mSjXCkVIa6',
  ];
  return lines.join('\r\n') + '\r\n';
}

/** The canonical form docs/protocol/11 §11.2.4 gives the fingerprint (sdpFingerprint's output). */
export function canonicalFingerprint(fingerprint: Uint8Array): string {
  return `sha-256 ${[...fingerprint].map(hex2).join(':')}`;
}
