// docs/protocol/09 §9.3 (registration) and §9.6 (account lookup).
import {
  buildRegistrationMessage,
  decodeRegistrationRequest,
  encodeAccountResponse,
  encodeRegistrationResponse,
  foldUsername,
  parseIdentityPublicKey,
} from '@sotto/protocol';
import { isStoreError } from '@sotto/store';
import { ServerError } from '../errors.ts';
import { authorizeForAccount, decodeOr400, usernamePath, type Handler } from '../internal/context.ts';
import { jsonResponse, readBody, requireContentType } from '../internal/http.ts';
import { storedDay } from '../internal/stored-time.ts';

/** The first device of an account is always 1 (§9.3; multi-device is later). */
const FIRST_DEVICE_ID = 1;

/** POST /v1/accounts */
export const register: Handler = async (ctx) => {
  const { app } = ctx;
  requireContentType(ctx.request, 'json');
  const body = await readBody(ctx.request, app.limits.maxJsonBodyBytes);
  const req = decodeOr400(() => decodeRegistrationRequest(body));
  if (req.deviceId !== FIRST_DEVICE_ID) throw new ServerError('ERR_API_BAD_REQUEST', `deviceId: expected ${FIRST_DEVICE_ID}, got ${req.deviceId}`);
  const username = decodeOr400(() => foldUsername(req.username));
  const identityKey = decodeOr400(() => parseIdentityPublicKey(req.identityKey));
  // The registrant must hold the identity key (§9.3): nobody registers a name under another's key.
  const message = buildRegistrationMessage(username, req.deviceId, req.accessKey);
  if (!(await app.crypto.ed25519Verify(identityKey, message, req.signature))) {
    throw new ServerError('ERR_API_BAD_REQUEST', 'signature: does not verify under identityKey over the registration message (§9.3)');
  }
  try {
    await app.store.createAccount({
      username,
      identityKey,
      accessKeyHash: app.crypto.sha256(req.accessKey),
      createdAt: storedDay(ctx.now), // the day, not the moment (docs/server-data.md)
      firstDeviceId: FIRST_DEVICE_ID,
    });
  } catch (e) {
    if (isStoreError(e, 'ERR_STORE_CONFLICT')) throw new ServerError('ERR_API_CONFLICT', 'the username is taken');
    throw e;
  }
  return jsonResponse(201, encodeRegistrationResponse({ username }));
};

/** GET /v1/accounts/{username} — with the looked-up account's access key (a lookup that names no
 *  one, so a lookup followed by a sealed send does not link sender and recipient) or a bearer token
 *  (first contact, before the profile key is known). */
export const lookup: Handler = async (ctx) => {
  const username = usernamePath(ctx);
  const account = await authorizeForAccount(ctx, username);
  if (account === null) throw new ServerError('ERR_API_NOT_FOUND', 'no such account');
  const devices = await ctx.app.store.listDevices(username);
  return jsonResponse(200, encodeAccountResponse({ username, identityKey: account.identityKey, devices: devices.map((d) => d.deviceId) }));
};
