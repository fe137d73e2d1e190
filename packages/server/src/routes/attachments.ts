// docs/protocol/09 §9.9: encrypted attachments. Upload needs a bearer token (so that the per-account
// rate limit applies); the blob is stored under a random id and linked to no account, and the id is
// the only capability needed to download it.
import { ATTACHMENT_ID_BYTES, decodeBase64url, encodeAttachmentResponse } from '@sotto/protocol';
import { isStoreError } from '@sotto/store';
import { ServerError } from '../errors.ts';
import { decodeOr400, requireBearer, type Handler } from '../internal/context.ts';
import { binaryResponse, jsonResponse, readBody, requireContentType } from '../internal/http.ts';

/** POST /v1/attachments */
export const upload: Handler = async (ctx) => {
  const { app } = ctx;
  requireBearer(ctx);
  requireContentType(ctx.request, 'binary');
  const bytes = await readBody(ctx.request, app.limits.maxAttachmentBytes);
  if (bytes.length === 0) throw new ServerError('ERR_API_BAD_REQUEST', 'body: expected an encrypted attachment, got 0 bytes');
  const expiresAt = ctx.now + app.limits.attachmentRetentionMs;
  // 128 random bits: a collision means a broken RNG, so one retry and then a 500.
  for (let attempt = 0; ; attempt++) {
    const id = app.rng(ATTACHMENT_ID_BYTES);
    try {
      await app.store.putAttachment({ id, bytes, expiresAt });
    } catch (e) {
      if (isStoreError(e, 'ERR_STORE_CONFLICT') && attempt === 0) continue;
      throw e;
    }
    app.metrics.add('attachments_stored');
    app.metrics.add('attachment_bytes', bytes.length);
    return jsonResponse(201, encodeAttachmentResponse({ id, expiresAt }));
  }
};

/** GET /v1/attachments/{id} — no credential; 404 once expired (even before the sweep deletes it). */
export const download: Handler = async (ctx) => {
  const id = decodeOr400(() => decodeBase64url(ctx.params.id ?? '', 'attachment id', { length: ATTACHMENT_ID_BYTES }));
  const a = await ctx.app.store.getAttachment(id);
  if (a === null || a.expiresAt <= ctx.now) throw new ServerError('ERR_API_NOT_FOUND', 'no such attachment, or it expired');
  return binaryResponse(200, a.bytes);
};
