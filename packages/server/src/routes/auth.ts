// docs/protocol/09 §9.4: challenge and token. A wrong signature, an unknown or expired challenge, and
// an unknown account or device are one and the same 401, so nothing tells an attacker which it was.
import { buildServerAuthMessage, decodeTokenRequest, foldUsername, encodeChallengeResponse, encodeTokenResponse, AUTH_CHALLENGE_BYTES, AUTH_TOKEN_BYTES } from '@sotto/protocol';
import { ServerError } from '../errors.ts';
import { decodeOr400, type Handler } from '../internal/context.ts';
import { jsonResponse, readBody, requireContentType, requireEmptyBody } from '../internal/http.ts';
import { storedDay } from '../internal/stored-time.ts';

/** POST /v1/auth/challenge (empty body) */
export const challenge: Handler = async (ctx) => {
  const { app } = ctx;
  await requireEmptyBody(ctx.request);
  const value = app.rng(AUTH_CHALLENGE_BYTES);
  const expiresAt = ctx.now + app.limits.challengeTtlMs;
  if (!app.credentials.addChallenge(value, expiresAt, ctx.now)) throw new ServerError('ERR_API_UNAVAILABLE', 'too many pending challenges; retry later');
  return jsonResponse(200, encodeChallengeResponse({ challenge: value, expiresAt }));
};

/** POST /v1/auth/token */
export const token: Handler = async (ctx) => {
  const { app } = ctx;
  requireContentType(ctx.request, 'json');
  const body = await readBody(ctx.request, app.limits.maxJsonBodyBytes);
  const req = decodeOr400(() => decodeTokenRequest(body));
  const unauthorized = (): ServerError => new ServerError('ERR_API_UNAUTHORIZED', 'the challenge, account, device or signature was not accepted');
  // Used up whatever happens next (§9.4 step 2).
  if (!app.credentials.consumeChallenge(req.challenge, ctx.now)) throw unauthorized();
  const username = foldUsername(req.username); // the codec accepted only §9.2 names
  const account = await app.store.getAccount(username);
  if (account === null) throw unauthorized();
  const devices = await app.store.listDevices(username);
  if (!devices.some((d) => d.deviceId === req.deviceId)) throw unauthorized();
  const message = buildServerAuthMessage(req.challenge, username, req.deviceId);
  if (!(await app.crypto.ed25519Verify(account.identityKey, message, req.signature))) throw unauthorized();
  const value = app.rng(AUTH_TOKEN_BYTES);
  const expiresAt = ctx.now + app.limits.tokenTtlMs;
  app.credentials.addToken(value, { username, deviceId: req.deviceId, expiresAt }, ctx.now);
  // Day precision only (docs/server-data.md): enough to retire dead devices, no log of log-ins.
  await app.store.touchDevice({ username, deviceId: req.deviceId }, storedDay(ctx.now));
  return jsonResponse(200, encodeTokenResponse({ token: value, expiresAt }));
};
