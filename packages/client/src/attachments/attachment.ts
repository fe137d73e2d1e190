// Attachment encryption (docs/protocol/10 §10.3): a file is padded, encrypted under a fresh key with
// AES-256-GCM on the sender's device, and uploaded as an opaque blob; the key and the blob's digest
// travel inside the end-to-end encrypted `file` message, so the server holds bytes it cannot read and
// the recipient can tell a swapped or damaged blob from the real one.
//
// | offset | length   | field                                                        |
// |--------|----------|--------------------------------------------------------------|
// | 0      | 12       | nonce, random                                                |
// | 12     | P + 16   | AES-256-GCM(key, nonce, padded, aad = "Sotto_v1_Attachment") |
// where padded = file || 0x80 || 0x00… and P = paddedAttachmentSize(len(file)).
import type { CryptoProvider, Rng } from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { constantTimeEqual, utf8, wipe } from '../internal/bytes.ts';
import { ATTACHMENT_MIN_PADDED_BYTES, ATTACHMENT_PADDING_BASE, MAX_ATTACHMENT_BLOB_BYTES } from '../limits.ts';

/** docs/protocol/10 §10.3 step 3: the associated data of every attachment's AEAD. */
export const ATTACHMENT_AAD = utf8('Sotto_v1_Attachment');
/** docs/protocol/10 §10.3 step 1: 32-byte key (AES-256), 12-byte nonce (GCM's native size). */
export const ATTACHMENT_KEY_BYTES = 32;
export const ATTACHMENT_NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** SHA-256 of the blob. */
export const ATTACHMENT_DIGEST_BYTES = 32;
const PADDING_MARKER = 0x80;

/**
 * docs/protocol/10 §10.3 step 2: the smallest size >= n + 1 of the form max(4096, ⌈1.05^k⌉). The
 * receiver checks only the padding's shape, never this size, so a rounding difference between two
 * implementations of Math.pow cannot make a valid blob fail.
 */
export function paddedAttachmentSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new ClientError('ERR_ARGUMENT', `attachment size: expected a non-negative integer, got ${n}`);
  const need = n + 1; // room for the 0x80 marker
  if (need <= ATTACHMENT_MIN_PADDED_BYTES) return ATTACHMENT_MIN_PADDED_BYTES;
  let k = Math.floor(Math.log(need) / Math.log(ATTACHMENT_PADDING_BASE)) - 1;
  for (;;) {
    const size = Math.ceil(ATTACHMENT_PADDING_BASE ** k);
    if (size >= need) return size;
    k++;
  }
}

/** The largest file whose blob fits in MAX_ATTACHMENT_BLOB_BYTES. */
export function maxAttachmentFileBytes(): number {
  let lo = 0;
  let hi = MAX_ATTACHMENT_BLOB_BYTES;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (blobBytesFor(mid) <= MAX_ATTACHMENT_BLOB_BYTES) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function blobBytesFor(fileBytes: number): number {
  return ATTACHMENT_NONCE_BYTES + paddedAttachmentSize(fileBytes) + TAG_BYTES;
}

/** What the sender uploads (`blob`) and what it puts into the `file` message (the rest). */
export interface EncryptedAttachment {
  readonly blob: Uint8Array;
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
  readonly size: number;
}

/** docs/protocol/10 §10.3 steps 1–4 (upload excepted). ERR_ATTACHMENT_TOO_LARGE when the blob would
 *  exceed MAX_ATTACHMENT_BLOB_BYTES. */
export async function encryptAttachment(crypto: CryptoProvider, rng: Rng, file: Uint8Array): Promise<EncryptedAttachment> {
  if (!(file instanceof Uint8Array)) throw new ClientError('ERR_ARGUMENT', 'attachment: expected the file as a Uint8Array');
  if (blobBytesFor(file.length) > MAX_ATTACHMENT_BLOB_BYTES) {
    throw new ClientError('ERR_ATTACHMENT_TOO_LARGE', `attachment: expected at most ${maxAttachmentFileBytes()} bytes, got ${file.length}`);
  }
  const key = rng(ATTACHMENT_KEY_BYTES); //                                    step 1
  const nonce = rng(ATTACHMENT_NONCE_BYTES);
  const padded = new Uint8Array(paddedAttachmentSize(file.length)); //         step 2: zero-filled
  padded.set(file);
  padded[file.length] = PADDING_MARKER;
  const sealed = await crypto.aeadSeal('aes-256-gcm', key, nonce, padded, ATTACHMENT_AAD); // step 3
  wipe(padded);
  const blob = new Uint8Array(ATTACHMENT_NONCE_BYTES + sealed.length);
  blob.set(nonce);
  blob.set(sealed, ATTACHMENT_NONCE_BYTES);
  return { blob, key, digest: crypto.sha256(blob), size: file.length }; //     step 4
}

/** The parts of a `file` message the receiver needs to check and open a blob. */
export interface AttachmentSecrets {
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
  readonly size: number;
}

function corrupt(message: string): ClientError {
  return new ClientError('ERR_ATTACHMENT_CORRUPT', message);
}

/**
 * docs/protocol/10 §10.3, the receiver: checks the digest in constant time, decrypts, checks the
 * padding (0x80 then only zeros) and that the unpadded length is `size`. Any mismatch is
 * ERR_ATTACHMENT_CORRUPT and no plaintext is returned.
 */
export async function decryptAttachment(crypto: CryptoProvider, blob: Uint8Array, secrets: AttachmentSecrets): Promise<Uint8Array> {
  if (secrets.key.length !== ATTACHMENT_KEY_BYTES) throw corrupt(`expected a ${ATTACHMENT_KEY_BYTES}-byte key, got ${secrets.key.length}`);
  if (secrets.digest.length !== ATTACHMENT_DIGEST_BYTES) throw corrupt(`expected a ${ATTACHMENT_DIGEST_BYTES}-byte digest, got ${secrets.digest.length}`);
  if (!Number.isSafeInteger(secrets.size) || secrets.size < 0) throw corrupt(`expected a non-negative size, got ${secrets.size}`);
  if (blob.length > MAX_ATTACHMENT_BLOB_BYTES) throw corrupt(`expected at most ${MAX_ATTACHMENT_BLOB_BYTES} bytes, got ${blob.length}`);
  if (!constantTimeEqual(crypto.sha256(blob), secrets.digest)) throw corrupt('the blob does not match its digest');
  if (blob.length < ATTACHMENT_NONCE_BYTES + ATTACHMENT_MIN_PADDED_BYTES + TAG_BYTES) {
    throw corrupt(`expected at least ${ATTACHMENT_NONCE_BYTES + ATTACHMENT_MIN_PADDED_BYTES + TAG_BYTES} bytes, got ${blob.length}`);
  }
  const nonce = blob.subarray(0, ATTACHMENT_NONCE_BYTES);
  const padded = await crypto.aeadOpen('aes-256-gcm', secrets.key, nonce, blob.subarray(ATTACHMENT_NONCE_BYTES), ATTACHMENT_AAD);
  if (padded === null) throw corrupt('the blob does not authenticate under its key');
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== PADDING_MARKER) {
    wipe(padded);
    throw corrupt('expected padding 0x80 then zeros');
  }
  if (end !== secrets.size) {
    wipe(padded);
    throw corrupt(`expected ${secrets.size} bytes of file, got ${end}`);
  }
  const file = padded.slice(0, end);
  wipe(padded);
  return file;
}
