// docs/protocol/09 §9.7 (sealed send) and §9.8 (fetch, acknowledge).
import {
  decodeAckRequest,
  decodeFetchQuery,
  decodeSendMessageRequest,
  encodeAckResponse,
  encodeFetchResponse,
  encodeSendMessageResponse,
  type FetchedMessage,
} from '@sotto/protocol';
import { isStoreError, type DeviceAddress, type EnqueueResult, type QueuedMessage, type Store } from '@sotto/store';
import { ServerError } from '../errors.ts';
import { authorizeForAccount, decodeOr400, devicePath, requireBearer, whatwgHandler, type AppState, type HotHandler } from '../internal/context.ts';
import { deviceKey } from '../internal/fanout.ts';
import { jsonReply, requireContentType } from '../internal/http.ts';

// The three routes are hot routes (internal/context.ts): each is a HotHandler, which startServer's
// node:http fast path runs directly, and the fetch handler through whatwgHandler.

/** PUT /v1/messages/{username}/{deviceId} — 200 only once the message is durably stored. */
export const sendHot: HotHandler = async (ctx) => {
  const { app } = ctx;
  const target = devicePath(ctx);
  const account = await authorizeForAccount(ctx, target.username);
  if (account === null) throw new ServerError('ERR_API_NOT_FOUND', 'no such account');
  requireContentType(ctx.request, 'json');
  const body = await ctx.readBody(app.limits.maxJsonBodyBytes);
  const req = decodeOr400(() => decodeSendMessageRequest(body));
  return jsonReply(200, encodeSendMessageResponse(await storeMessage(app, target, req.id, req.envelope, ctx.now)));
};
export const send = whatwgHandler(sendHot);

/**
 * §9.7 once a send is authorised and decoded: enqueues it durably, then wakes the recipient's live
 * connection. Resolves only after the store's commit ("on disk"); an unknown device is 404. Shared by
 * PUT /v1/messages and the sealed-send WebSocket (§9.7.1).
 */
export async function storeMessage(app: AppState, target: DeviceAddress, id: Uint8Array, envelope: Uint8Array, now: number): Promise<EnqueueResult> {
  let result: EnqueueResult;
  const stored = { id, envelope, receivedAt: now, expiresAt: now + app.limits.messageRetentionMs };
  try {
    result = await app.store.enqueue(target, stored);
  } catch (e) {
    if (isStoreError(e, 'ERR_STORE_NOT_FOUND')) throw new ServerError('ERR_API_NOT_FOUND', 'no such device');
    throw e;
  }
  if (result.duplicate) {
    app.metrics.add('messages_duplicate');
  } else {
    app.metrics.add('messages_enqueued');
    // Carries the message, now durable, so a caught-up WebSocket pushes it without a store read. No
    // await between the enqueue resolving and this wake: the store resolves one device's enqueues
    // in seq order, so the wakes come in seq order too (internal/fanout.ts).
    app.fanout.wake(deviceKey(target.username, target.deviceId), { seq: result.seq, ...stored });
  }
  return result;
}

/**
 * Up to `limit` unexpired messages after `after`, capped at `maxBytes` of envelopes (at least one),
 * and whether the queue holds more after them. Shared by fetch and the WebSocket push.
 */
export async function readQueue(store: Store, device: DeviceAddress, after: number, limit: number, maxBytes: number, now: number): Promise<{ messages: QueuedMessage[]; more: boolean }> {
  const messages: QueuedMessage[] = [];
  let bytes = 0;
  let cursor = after;
  for (;;) {
    const want = limit - messages.length;
    const page = await store.fetch(device, { after: cursor, limit: Math.min(1000, want) });
    for (const m of page) {
      cursor = m.seq;
      if (m.expiresAt <= now) continue; // expired, not yet swept: never delivered
      if (messages.length > 0 && bytes + m.envelope.length > maxBytes) return { messages, more: true };
      messages.push(m);
      bytes += m.envelope.length;
      if (messages.length === limit) {
        const next = await store.fetch(device, { after: cursor, limit: 1 });
        return { messages, more: next.length > 0 };
      }
    }
    if (page.length < want) return { messages, more: false };
  }
}

/** GET /v1/messages?after=<seq>&limit=<n> */
export const fetchHot: HotHandler = async (ctx) => {
  const { app } = ctx;
  const device = requireBearer(ctx);
  const q = decodeOr400(() => decodeFetchQuery(ctx.search));
  const { messages, more } = await readQueue(app.store, device, q.after, q.limit, app.limits.maxFetchPageBytes, ctx.now).catch(notFoundIsGone);
  app.metrics.add('messages_delivered', messages.length);
  const out: FetchedMessage[] = messages.map((m) => ({ seq: m.seq, id: m.id, envelope: m.envelope, receivedAt: m.receivedAt }));
  return jsonReply(200, encodeFetchResponse({ messages: out, more }));
};
export const fetch = whatwgHandler(fetchHot);

/** POST /v1/messages/ack — deletes the named messages of the caller's own queue. */
export const ackHot: HotHandler = async (ctx) => {
  const { app } = ctx;
  const device = requireBearer(ctx);
  requireContentType(ctx.request, 'json');
  const body = await ctx.readBody(app.limits.maxJsonBodyBytes);
  const req = decodeOr400(() => decodeAckRequest(body));
  const deleted = await acknowledge(app, device, req.ids);
  return jsonReply(200, encodeAckResponse({ deleted }));
};
export const ack = whatwgHandler(ackHot);

export async function acknowledge(app: AppState, device: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
  if (ids.length === 0) return 0;
  const deleted = await app.store.ack(device, ids);
  app.metrics.add('messages_acknowledged', deleted);
  return deleted;
}

/** A token's device that no longer exists: the token is as good as expired. */
function notFoundIsGone(e: unknown): never {
  if (isStoreError(e, 'ERR_STORE_NOT_FOUND')) throw new ServerError('ERR_API_UNAUTHORIZED', 'the device no longer exists');
  throw e;
}
