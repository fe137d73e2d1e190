// docs/protocol/11 §11.7 (docs/protocol/09 §9.12): GET /v1/calls/turn — short-lived TURN credentials
// for a bearer-authenticated device; 404 when the server was started without TURN.
import { encodeTurnCredentialsResponse } from '@sotto/protocol';
import { ServerError } from '../errors.ts';
import { requireBearer, type Handler } from '../internal/context.ts';
import { jsonResponse } from '../internal/http.ts';

export const turn: Handler = (ctx) => {
  // Authentication (and the per-account rate limit) first: only a device learns whether there is TURN.
  requireBearer(ctx);
  const config = ctx.app.turn;
  if (config === undefined) throw new ServerError('ERR_API_NOT_FOUND', 'this server has no TURN server');
  // The credential names no account (§11.7): nothing about the caller reaches the TURN server or a log.
  return Promise.resolve(jsonResponse(200, encodeTurnCredentialsResponse(config.mint(ctx.now, ctx.app.rng))));
};
