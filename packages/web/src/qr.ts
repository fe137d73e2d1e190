// The safety number's QR code (docs/protocol/07 §7.4: the scannable payload), drawn and read.
//
// Drawing: uqr, with exactly the CLI's encoding (packages/cli/src/internal/format.ts renderQrCode):
// the payload's bytes as one byte-mode segment, error correction M. Only the quiet zone differs (the
// spec's 4 modules on screen; the terminal uses 2), which carries no data. So a browser scans a code
// the CLI shows, and the CLI's user can type the digits a browser shows: the two clients verify each
// other. Reading: jsQR, whose `binaryData` is the byte-mode payload.
import jsQRModule from 'jsqr';
import { encode, renderSVG } from 'uqr';

// jsqr is CommonJS: its module value is the function, which also carries itself as `.default` (how its
// typings describe it under NodeNext). Calling `.default` works under Node, tsx and Vite alike.
const jsQR = jsQRModule.default;

/** The options both clients use; ECC M: a screen photographed at an angle loses some modules. */
const QR_ECC = 'M';
/** ISO/IEC 18004 §6.3.8: four modules of quiet zone around the symbol. */
export const QR_QUIET_ZONE = 4;

/** The QR code's modules (true = dark), quiet zone included, as the screen shows them. */
export function qrMatrix(payload: Uint8Array): boolean[][] {
  return encode(Array.from(payload), { ecc: QR_ECC, border: QR_QUIET_ZONE }).data;
}

/** The QR code as SVG markup (uqr's renderer: one path, no scripts, no styles). */
export function qrSvgMarkup(payload: Uint8Array): string {
  return renderSVG(Array.from(payload), { ecc: QR_ECC, border: QR_QUIET_ZONE, pixelSize: 8 });
}

/** Reads a QR code from RGBA pixels; its byte payload, or undefined when no code was found. */
export function decodeQr(rgba: Uint8ClampedArray, width: number, height: number): Uint8Array | undefined {
  const found = jsQR(rgba, width, height, { inversionAttempts: 'attemptBoth' });
  if (found === null || found.binaryData.length === 0) return undefined;
  return Uint8Array.from(found.binaryData);
}
