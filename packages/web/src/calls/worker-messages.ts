// What the page (src/calls/media.ts) and the frame-encryption worker (src/calls/sframe-worker.ts)
// post to each other. Keys go one way only (page → worker); counters come back.

/** Which pipeline an RTCRtpScriptTransform sits in: its `options` are `{ side }`. */
export type TransformSide = 'send' | 'receive';

export interface WorkerSframeKey {
  readonly kid: number;
  /** Transferred to the worker; zeroed there once the SFrame context is derived. */
  readonly baseKey: Uint8Array;
}

export type WorkerRequest =
  | { readonly type: 'keys'; readonly id: number; readonly send: WorkerSframeKey; readonly receive: WorkerSframeKey }
  | { readonly type: 'receive-key'; readonly id: number; readonly receive: WorkerSframeKey }
  | { readonly type: 'stats'; readonly id: number }
  | { readonly type: 'close' };

/** Frames the worker handled since it started. */
export interface WorkerCounters {
  /** Frames sent as SFrame ciphertext. */
  encrypted: number;
  /** Received frames that authenticated and went on to the decoder. */
  decrypted: number;
  /** Frames dropped because they failed: received ones that did not decrypt (§11.5), or a send error. */
  failed: number;
  /** Non-empty frames dropped because the keys were not there yet (both sides together). */
  droppedUnkeyed: number;
  /** Of those, the received ones: a non-empty frame that arrived before this side had keys. */
  droppedUnkeyedReceived: number;
  /** Zero-length frames passed through untouched. */
  passedEmpty: number;
  /** rtctransform events received (2 when both the sender and the receiver transform are attached). */
  transforms: number;
  /** When the first received frame authenticated, in ms since the Unix epoch at sub-ms resolution
   *  (`performance.timeOrigin + performance.now()`, comparable with the page's clock); 0 before. The
   *  call-setup benchmark (bench/calls/browser.ts) measures accept → first decrypted frame with it. */
  firstDecryptedAt: number;
}

export type WorkerResponse =
  | { readonly type: 'keyed'; readonly id: number }
  | { readonly type: 'key-failed'; readonly id: number }
  | { readonly type: 'stats'; readonly id: number; readonly counters: WorkerCounters };
