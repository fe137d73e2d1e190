// Scanning the other person's safety-number QR code with the camera: getUserMedia, each frame drawn
// scaled onto a canvas, its pixels decoded with jsQR (src/qr.ts) until a code holds a Sotto scannable
// payload (docs/protocol/07 §7.4). Another QR code in view (a poster, a URL) is skipped, not an error:
// the user is still aiming. The caller compares the payload with the SDK's `verifyScanned`.
import { compareScannable } from '@sotto/protocol';
import { WebError } from './errors.ts';
import { SCAN_FRAME_WIDTH, SCAN_INTERVAL_MS } from './limits.ts';
import { decodeQr } from './qr.ts';

/** True when `payload` decodes as a scannable safety number of this protocol version. */
export function isSottoPayload(payload: Uint8Array): boolean {
  try {
    compareScannable(payload, payload); // decodes both sides: throws on anything else
    return true;
  } catch {
    return false;
  }
}

export interface Scan {
  /** Resolves with the first Sotto payload seen; rejects with ERR_WEB_CAMERA when there is no camera
   *  (or no permission), and with an AbortError after stop(). */
  readonly result: Promise<Uint8Array>;
  /** Stops the camera (idempotent). */
  stop(): void;
}

export function startScan(video: HTMLVideoElement, canvas: HTMLCanvasElement): Scan {
  let stream: MediaStream | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let abort: (e: unknown) => void = () => undefined;

  const release = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    for (const t of stream?.getTracks() ?? []) t.stop();
    video.srcObject = null;
  };

  const result = new Promise<Uint8Array>((resolve, reject) => {
    abort = reject;
    const media = (navigator as Partial<Navigator>).mediaDevices;
    if (media?.getUserMedia === undefined) {
      reject(new WebError('ERR_WEB_CAMERA', 'expected navigator.mediaDevices.getUserMedia (a secure context with a camera)'));
      return;
    }
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (ctx === null) {
      reject(new WebError('ERR_WEB_CAMERA', 'expected a 2d canvas context'));
      return;
    }
    const tick = (): void => {
      if (stopped) return;
      if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0) {
        const w = Math.min(SCAN_FRAME_WIDTH, video.videoWidth);
        const h = Math.round((video.videoHeight * w) / video.videoWidth);
        canvas.width = w;
        canvas.height = h;
        ctx.drawImage(video, 0, 0, w, h);
        const payload = decodeQr(ctx.getImageData(0, 0, w, h).data, w, h);
        if (payload !== undefined && isSottoPayload(payload)) {
          stopped = true;
          release();
          resolve(payload);
          return;
        }
      }
      timer = setTimeout(tick, SCAN_INTERVAL_MS);
    };
    media
      .getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false })
      .then(async (s) => {
        stream = s;
        if (stopped) {
          release();
          return;
        }
        video.srcObject = s;
        await video.play();
        tick();
      })
      .catch((e: unknown) => {
        release();
        if (!stopped) reject(new WebError('ERR_WEB_CAMERA', 'the camera could not be opened', { cause: e }));
      });
  });

  return {
    result,
    stop() {
      if (stopped) return;
      stopped = true;
      release();
      abort(new DOMException('scan stopped', 'AbortError'));
    },
  };
}
