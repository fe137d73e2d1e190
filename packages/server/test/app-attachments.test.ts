// Attachments (docs/protocol/09 §9.9): upload with a token, download by id alone, 404 once expired,
// and 413 for an oversized body — decided from Content-Length, or while streaming without reading
// the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAttachmentResponse, encodeBase64url } from '@sotto/protocol';
import { createMemoryStore } from '@sotto/store';
import { createApp } from '@sotto/server';
import { Clock, authenticate, bearer, binary, crypto, expectError, expectOk, newUser, recording, register, rng, viaApp } from './support.ts';

async function setup() {
  const clock = new Clock();
  const rec = recording(createMemoryStore());
  const app = createApp({ store: rec.store, crypto, now: clock.now, limits: { sweepIntervalMs: 0, maxAttachmentBytes: 4096, attachmentRetentionMs: 10_000 } });
  const http = viaApp(app);
  const alice = await newUser('alice');
  await register(http, alice);
  const token = await authenticate(http, alice);
  rec.mutations.length = 0;
  return { app, http, clock, store: rec.store, mutations: rec.mutations, token };
}

test('an attachment uploads with a token, downloads by id without one, and is gone after its retention', async () => {
  const { app, http, clock, token } = await setup();
  const blob = rng(4096);
  const created = decodeAttachmentResponse(await expectOk(await http('POST', '/v1/attachments', binary(blob, bearer(token))), 201));
  assert.equal(created.expiresAt, clock.t + 10_000);
  const res = await http('GET', `/v1/attachments/${encodeBase64url(created.id)}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), blob);
  clock.advance(10_000);
  await expectError(await http('GET', `/v1/attachments/${encodeBase64url(created.id)}`), 404, 'ERR_API_NOT_FOUND', 'expired, not yet swept');
  assert.deepEqual(await app.sweep(), { messages: 0, attachments: 1 });
  await expectError(await http('GET', `/v1/attachments/${encodeBase64url(created.id)}`), 404, 'ERR_API_NOT_FOUND', 'swept');
  await expectError(await http('GET', `/v1/attachments/${encodeBase64url(rng(16))}`), 404, 'ERR_API_NOT_FOUND', 'unknown id');
  await expectError(await http('GET', '/v1/attachments/AAAA'), 400, 'ERR_API_BAD_REQUEST', 'short id');
  await expectError(await http('POST', '/v1/attachments', binary(blob)), 401, 'ERR_API_UNAUTHORIZED', 'no token');
  await expectError(await http('POST', '/v1/attachments', binary(new Uint8Array(0), bearer(token))), 400, 'ERR_API_BAD_REQUEST', 'empty');
  const metrics = await (await http('GET', '/metrics')).text();
  assert.match(metrics, /^sotto_attachment_bytes_total 4096$/m);
});

test('an oversized attachment is 413 from Content-Length, and 413 mid-stream without reading the rest', async () => {
  const { http, token, mutations } = await setup();
  await expectError(await http('POST', '/v1/attachments', binary(rng(4097), bearer(token))), 413, 'ERR_API_TOO_LARGE', 'one byte over');
  await expectError(
    await http('POST', '/v1/attachments', { body: rng(10), headers: { ...bearer(token), 'content-type': 'application/octet-stream', 'content-length': '999999999' } }),
    413,
    'ERR_API_TOO_LARGE',
    'declared too large',
  );
  // An endless body without Content-Length: the app must stop pulling soon after the limit.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  await expectError(await http('POST', '/v1/attachments', { body: endless, headers: { ...bearer(token), 'content-type': 'application/octet-stream' } }), 413, 'ERR_API_TOO_LARGE', 'endless stream');
  assert.ok(pulled <= 8, `read ${pulled} KiB of an endless body with a 4 KiB limit`);
  assert.deepEqual(mutations, [], 'nothing was stored');
});
