// What mallory, as the server, knows about the traffic it relays without opening anything (docs/protocol/09): which
// WebSocket connection belongs to which account (the token it issued on POST /v1/auth/token and the `auth` frame
// that presented it), which message ids a client acknowledged, and which sends went to whom (over HTTP or the
// anonymous sealed-send socket, whose frames name the recipient as the PUT's path does). The Sotto-calls
// scenarios use it to aim their rewrites and injections at one user's connection, as a malicious server can;
// rewriteDeliveredEnvelopes is the rewrite itself, shared with the message scenarios.
import {
  decodeAckRequest,
  decodeClientFrame,
  decodeSealedSendFrame,
  encodeAccessKeyHeader,
  encodeSendMessageRequest,
  foldUsername,
  decodeFetchResponse,
  decodeServerFrame,
  decodeTokenRequest,
  decodeTokenResponse,
  encodeBase64url,
  encodeFetchResponse,
  encodeServerFrame,
} from '@sotto/protocol';
import { AttacksError } from '../errors.ts';
import type { ProxyHooks, ProxyResponse, Recorded, RecordedHttp } from './proxy.ts';

/** The latest WebSocket connection on which `username`'s device authenticated. */
export function connectionOf(records: readonly Recorded[], username: string): number {
  const tokens = new Set<string>();
  let connection: number | undefined;
  for (const r of records) {
    try {
      if (r.kind === 'http' && r.method === 'POST' && r.path === '/v1/auth/token' && r.status === 200 && decodeTokenRequest(r.requestBody).username === username) {
        tokens.add(encodeBase64url(decodeTokenResponse(r.responseBody).token));
      } else if (r.kind === 'ws' && r.direction === 'to-server') {
        const f = decodeClientFrame(r.data);
        if (f.type === 'auth' && tokens.has(encodeBase64url(f.token))) connection = r.connection;
      }
    } catch {
      // not one of these messages
    }
  }
  if (connection === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', `no WebSocket connection of ${username} in the recording`);
  return connection;
}

/** Message ids (base64url) acknowledged by clients in `records` (WebSocket `ack` frames and POST /v1/messages/ack). */
export function ackedIds(records: readonly Recorded[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    try {
      if (r.kind === 'ws' && r.direction === 'to-server') {
        const f = decodeClientFrame(r.data);
        if (f.type === 'ack') for (const id of f.ids) out.add(encodeBase64url(id));
      } else if (r.kind === 'http' && r.method === 'POST' && r.path === '/v1/messages/ack') {
        for (const id of decodeAckRequest(r.requestBody).ids) out.add(encodeBase64url(id));
      }
    } catch {
      // not one of these messages
    }
  }
  return out;
}

/**
 * Recorded sends addressed to `to`: PUT /v1/messages/<to>/<device>, and sealed sends over the
 * sealed-send WebSocket (docs/protocol/09 §9.7.1), which the SDK uses while it listens — each of
 * those as the PUT it stands for (the same path, access key and body; status 0: its answer is a
 * separate frame), which a replay can send again as it is.
 */
export function sendsTo(records: readonly Recorded[], to: string): RecordedHttp[] {
  const out: RecordedHttp[] = [];
  for (const r of records) {
    if (r.kind === 'http') {
      if (r.method === 'PUT' && r.path.startsWith(`/v1/messages/${to}/`)) out.push(r);
      continue;
    }
    if (r.direction !== 'to-server' || r.injected) continue;
    let f;
    try {
      f = decodeSealedSendFrame(r.data);
    } catch {
      continue; // not a sealed send
    }
    if (foldUsername(f.username) !== to) continue;
    out.push({
      kind: 'http',
      n: r.n,
      method: 'PUT',
      path: `/v1/messages/${to}/${f.deviceId}`,
      requestHeaders: { 'content-type': 'application/json', 'sotto-access-key': encodeAccessKeyHeader(f.accessKey) },
      requestBody: new TextEncoder().encode(encodeSendMessageRequest({ id: f.id, envelope: f.envelope })),
      status: 0,
      responseHeaders: {},
      responseBody: new Uint8Array(0),
    });
  }
  return out;
}

/** Proxy hooks that pass every envelope the server delivers through `rewrite`: those pushed in WebSocket
 *  `message` frames (on `connection` only, when given) and those fetched with GET /v1/messages. */
export function rewriteDeliveredEnvelopes(rewrite: (envelope: Uint8Array) => Uint8Array, connection?: number): ProxyHooks {
  return {
    toClientFrame: (c, text) => {
      if (connection !== undefined && c !== connection) return undefined;
      const frame = decodeServerFrame(text);
      return frame.type === 'message' ? encodeServerFrame({ ...frame, envelope: rewrite(frame.envelope) }) : undefined;
    },
    response: (req, res): ProxyResponse | undefined => {
      if (req.method !== 'GET' || !req.path.startsWith('/v1/messages') || res.status !== 200) return undefined;
      const f = decodeFetchResponse(res.body);
      return { ...res, body: new TextEncoder().encode(encodeFetchResponse({ ...f, messages: f.messages.map((m) => ({ ...m, envelope: rewrite(m.envelope) })) })) };
    },
  };
}
