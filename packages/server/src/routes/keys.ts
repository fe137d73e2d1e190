// docs/protocol/09 §9.5: prekey upload, counts, and bundle fetch.
import {
  decodeKemPrekey,
  decodeOneTimePrekey,
  decodePrekeyUpload,
  decodeSignedPrekey,
  encodeKemPrekey,
  encodeKeyCountsResponse,
  encodeKeyStatusResponse,
  encodeOneTimePrekey,
  encodePrekeyBundle,
  encodeSignedPrekey,
  verifyPrekeyUpload,
} from '@sotto/protocol';
import { isStoreError, type OneTimePrekeyCounts } from '@sotto/store';
import { ServerError } from '../errors.ts';
import { asBadRequest, authorizeForAccount, decodeOr400, devicePath, requireBearer, type AppState, type Handler } from '../internal/context.ts';
import { deviceKey } from '../internal/fanout.ts';
import { binaryResponse, jsonResponse, readBody, requireContentType } from '../internal/http.ts';

const isLow = (app: AppState, c: OneTimePrekeyCounts): boolean => c.x25519 < app.limits.prekeyLowWater || c.kem < app.limits.prekeyLowWater;

/** PUT /v1/keys — a PrekeyUpload (docs/protocol/03 §3.6), verified against the account's identity key. */
export const upload: Handler = async (ctx) => {
  const { app } = ctx;
  const device = requireBearer(ctx);
  requireContentType(ctx.request, 'binary');
  const body = await readBody(ctx.request, app.limits.maxPrekeyUploadBytes);
  const up = decodeOr400(() => decodePrekeyUpload(body));
  const account = await app.store.getAccount(device.username);
  if (account === null) throw new ServerError('ERR_API_UNAUTHORIZED', 'the account no longer exists');
  // Every signature under the account's own identity key, before anything replaces what is served.
  await verifyPrekeyUpload(app.crypto, up, account.identityKey).catch(asBadRequest);
  try {
    const counts = await app.store.storePrekeys(device, {
      signedPrekey: up.signedPrekey === undefined ? undefined : { id: up.signedPrekey.id, record: encodeSignedPrekey(up.signedPrekey) },
      lastResortKemPrekey: up.lastResortKemPrekey === undefined ? undefined : { id: up.lastResortKemPrekey.id, record: encodeKemPrekey(up.lastResortKemPrekey) },
      oneTime: {
        x25519: up.oneTimePrekeys.map((p) => ({ id: p.id, record: encodeOneTimePrekey(p) })),
        kem: up.kemPrekeys.map((p) => ({ id: p.id, record: encodeKemPrekey(p) })),
      },
    });
    return jsonResponse(200, encodeKeyCountsResponse(counts));
  } catch (e) {
    if (isStoreError(e, 'ERR_STORE_CONFLICT')) throw new ServerError('ERR_API_CONFLICT', 'a one-time prekey id is one the device still holds');
    if (isStoreError(e, 'ERR_STORE_NOT_FOUND')) throw new ServerError('ERR_API_UNAUTHORIZED', 'the device no longer exists');
    throw e;
  }
};

/** GET /v1/keys — the caller's own one-time counts and the low-water flag. */
export const status: Handler = async (ctx) => {
  const device = requireBearer(ctx);
  const counts = await ctx.app.store.countOneTimePrekeys(device).catch((e: unknown) => {
    if (isStoreError(e, 'ERR_STORE_NOT_FOUND')) throw new ServerError('ERR_API_UNAUTHORIZED', 'the device no longer exists');
    throw e;
  });
  return jsonResponse(200, encodeKeyStatusResponse({ ...counts, lowWater: isLow(ctx.app, counts) }));
};

/** GET /v1/keys/{username}/{deviceId} — a bundle; one-time keys are removed atomically as handed out. */
export const bundle: Handler = async (ctx) => {
  const { app } = ctx;
  const target = devicePath(ctx);
  const account = await authorizeForAccount(ctx, target.username);
  if (account === null) throw new ServerError('ERR_API_NOT_FOUND', 'no such account');
  let parts;
  try {
    parts = await app.store.takeBundleParts(target);
  } catch (e) {
    if (isStoreError(e, 'ERR_STORE_NOT_FOUND')) throw new ServerError('ERR_API_NOT_FOUND', 'no such device, or it has not uploaded a signed and a KEM prekey');
    throw e;
  }
  // The records were encoded by `upload` after verification; decoding them again cannot fail unless
  // the database was changed behind the server's back (then: 500, logged).
  const bytes = encodePrekeyBundle({
    identityKey: account.identityKey,
    signedPrekey: decodeSignedPrekey(parts.signedPrekey.record),
    oneTimePrekey: parts.oneTimePrekey === null ? undefined : decodeOneTimePrekey(parts.oneTimePrekey.record),
    kemPrekey: decodeKemPrekey(parts.kemPrekey.record),
  });
  app.metrics.add('prekey_bundles_fetched');
  const counts = await app.store.countOneTimePrekeys(target);
  if (isLow(app, counts)) app.fanout.prekeysLow(deviceKey(target.username, target.deviceId), counts);
  return binaryResponse(200, bytes);
};
