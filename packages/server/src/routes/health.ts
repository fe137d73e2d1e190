// docs/protocol/09 §9.10: GET /health — 200 when the store answers a read, else 503.
import { encodeHealthResponse } from '@sotto/protocol';
import { ServerError } from '../errors.ts';
import type { Handler } from '../internal/context.ts';
import { jsonResponse } from '../internal/http.ts';

/** An id no attachment has in practice: reading it exercises the store without touching data. */
const PROBE_ID = new Uint8Array(16);

export const health: Handler = async (ctx) => {
  try {
    await ctx.app.store.getAttachment(PROBE_ID);
  } catch (e) {
    throw new ServerError('ERR_API_UNAVAILABLE', 'the store does not answer', { cause: e });
  }
  return jsonResponse(200, encodeHealthResponse({ status: 'ok' }));
};
