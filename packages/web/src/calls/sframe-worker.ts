// The frame-encryption worker of a call (docs/protocol/11 §11.5): one per call, started by
// src/calls/media.ts, holding the call's two SFrame contexts. Chromium hands it the encoded audio
// frames through RTCRtpScriptTransform (W3C WebRTC Encoded Transform §4): one `rtctransform` event
// for the sender (`{ side: 'send' }`) and one for the receiver (`{ side: 'receive' }`).
//
// - Until the key agreement has finished and the page has posted the keys, both sides DROP every
//   frame: plaintext audio never leaves, and nothing unauthenticated reaches the decoder.
// - Zero-length frames (padding, probing) pass through untouched (§11.5).
// - A received frame that does not decrypt (malformed header, other KID, replay, failed tag) is
//   dropped and counted, never handed to the Opus decoder, where ciphertext would play as loud noise.
// - Counters only leave: keys are never posted back, logged or kept after `close`.
import { fastProvider } from '@sotto/crypto';
import { SframeReceiver, SframeSender } from '@sotto/protocol';
import type { WorkerCounters, WorkerRequest, WorkerResponse, TransformSide } from './worker-messages.ts';

// The worker-side slice of WebRTC Encoded Transform, typed here because the web package compiles
// against the DOM library, not the WebWorker one.
interface EncodedFrame {
  data: ArrayBuffer;
}
interface ScriptTransformer {
  readonly options: unknown;
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
}
interface WorkerScope {
  onrtctransform: ((ev: { readonly transformer: ScriptTransformer }) => void) | null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null;
  postMessage(message: WorkerResponse): void;
}

const scope = globalThis as unknown as WorkerScope;

const counters: WorkerCounters = { encrypted: 0, decrypted: 0, failed: 0, droppedUnkeyed: 0, droppedUnkeyedReceived: 0, passedEmpty: 0, transforms: 0, firstDecryptedAt: 0 };
let sender: SframeSender | undefined;
let receiver: SframeReceiver | undefined;
/** Keys being set up (SframeSender/Receiver.create are async): frames wait for it rather than race. */
let keying: Promise<void> | undefined;
let closed = false;

function bytesOf(data: ArrayBuffer): Uint8Array {
  return new Uint8Array(data);
}

/** An ArrayBuffer holding exactly `bytes` (the frame's `data` must be a whole buffer). */
function bufferOf(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer;
}

function sideOf(options: unknown): TransformSide | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  const side = (options as { side?: unknown }).side;
  return side === 'send' || side === 'receive' ? side : undefined;
}

async function sendFrame(frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>): Promise<void> {
  if (frame.data.byteLength === 0) {
    counters.passedEmpty++;
    out.enqueue(frame);
    return;
  }
  if (keying !== undefined) await keying;
  if (sender === undefined || closed) {
    counters.droppedUnkeyed++; // never plaintext on the wire
    return;
  }
  try {
    frame.data = bufferOf(await sender.encrypt(bytesOf(frame.data)));
  } catch {
    // ERR_COUNTER_EXHAUSTED (2^64 - 1 frames) or a crypto failure: stop sending, never send plaintext.
    counters.failed++;
    return;
  }
  counters.encrypted++;
  out.enqueue(frame);
}

async function receiveFrame(frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>): Promise<void> {
  if (frame.data.byteLength === 0) {
    counters.passedEmpty++;
    out.enqueue(frame);
    return;
  }
  if (keying !== undefined) await keying;
  if (receiver === undefined || closed) {
    counters.droppedUnkeyed++;
    counters.droppedUnkeyedReceived++;
    return;
  }
  try {
    frame.data = bufferOf(await receiver.decrypt(bytesOf(frame.data)));
  } catch {
    counters.failed++; // ERR_SFRAME_*: dropped, never decoded (§11.5)
    return;
  }
  if (counters.decrypted++ === 0) counters.firstDecryptedAt = performance.timeOrigin + performance.now();
  out.enqueue(frame);
}

/** A 20-ms Opus frame's size (bench/calls/sframe.ts): what the warm-up below encrypts. */
const WARM_UP_FRAME_BYTES = 160;

/**
 * Runs the SFrame code once under a throwaway random key as soon as the worker starts, long before
 * the call's keys can arrive (the microphone and the SDP come first): the first use of the key
 * derivation and of AES-GCM otherwise pays for compiling that code, between the key agreement and the
 * first frame heard (about 10–20 ms in Chromium). The key is random, used for nothing else and dropped.
 */
async function warmUp(): Promise<void> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const s = await SframeSender.create(fastProvider, { kid: 0, baseKey: key });
  const r = await SframeReceiver.create(fastProvider, { kid: 0, baseKey: key });
  key.fill(0);
  const frame = new Uint8Array(WARM_UP_FRAME_BYTES);
  for (let i = 0; i < 3; i++) await r.decrypt(await s.encrypt(frame));
}

// Keys posted during the warm-up wait for it (setKeys chains on `keying`); a failure only loses the warm-up.
keying = warmUp().catch(() => undefined);
{
  const first = keying;
  void first.then(() => {
    if (keying === first) keying = undefined;
  });
}

scope.onrtctransform = (ev) => {
  const t = ev.transformer;
  const side = sideOf(t.options);
  if (side === undefined) return; // not ours: leave the pipeline stalled rather than pass plaintext
  counters.transforms++;
  const step = side === 'send' ? sendFrame : receiveFrame;
  // One frame at a time, in order: the sender's CTR follows the frame order, and the receiver's
  // replay window sees frames as they came.
  void t.readable
    .pipeThrough(
      new TransformStream<EncodedFrame, EncodedFrame>({
        transform: (frame, out) => step(frame, out),
      }),
    )
    .pipeTo(t.writable)
    .catch(() => undefined); // the call ended: Chromium closed the streams
};

async function setKeys(req: Extract<WorkerRequest, { type: 'keys' }>): Promise<void> {
  const [s, r] = await Promise.all([
    SframeSender.create(fastProvider, { kid: req.send.kid, baseKey: req.send.baseKey }),
    SframeReceiver.create(fastProvider, { kid: req.receive.kid, baseKey: req.receive.baseKey }),
  ]);
  req.send.baseKey.fill(0);
  req.receive.baseKey.fill(0);
  if (closed) return;
  sender = s;
  receiver = r;
}

/** Test hook: only the receive key is replaced (a wrong one makes every frame fail, §11.5). */
async function setReceiveKey(req: Extract<WorkerRequest, { type: 'receive-key' }>): Promise<void> {
  const r = await SframeReceiver.create(fastProvider, { kid: req.receive.kid, baseKey: req.receive.baseKey });
  req.receive.baseKey.fill(0);
  if (!closed) receiver = r;
}

function parse(data: unknown): WorkerRequest | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const type = (data as { type?: unknown }).type;
  return type === 'keys' || type === 'receive-key' || type === 'stats' || type === 'close' ? (data as WorkerRequest) : undefined;
}

scope.onmessage = (ev) => {
  const req = parse(ev.data);
  if (req === undefined) return;
  switch (req.type) {
    case 'keys':
    case 'receive-key': {
      if (closed) return;
      const p = (keying ?? Promise.resolve()).then(() => (req.type === 'keys' ? setKeys(req) : setReceiveKey(req)));
      const mine = p.then(
        () => {
          scope.postMessage({ type: 'keyed', id: req.id });
        },
        () => {
          scope.postMessage({ type: 'key-failed', id: req.id });
        },
      );
      keying = mine;
      void mine.then(() => {
        if (keying === mine) keying = undefined;
      });
      return;
    }
    case 'stats':
      scope.postMessage({ type: 'stats', id: req.id, counters: { ...counters } });
      return;
    case 'close':
      // Drop the SFrame contexts (and with them the derived keys); later frames are dropped.
      closed = true;
      sender = undefined;
      receiver = undefined;
      return;
  }
};
