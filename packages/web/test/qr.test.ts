// The safety number's QR code (src/qr.ts, src/scanner.ts) in Node, with a real scannable payload
// (docs/protocol/07 §7.4): the web client's code decodes to the payload; its SVG shows exactly the
// encoded modules; the CLI's terminal code decodes to the same payload with the web client's reader
// (so a browser verifies a CLI user by scanning); and only Sotto payloads are taken as scans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastProvider } from '@sotto/crypto';
import { IdentityKeyPair, compareScannable, sottoSafetyNumber } from '@sotto/protocol';
import { seededRng } from '@sotto/test-support';
import { renderSVG } from 'uqr';
import { renderQrCode } from '../../cli/src/internal/format.ts';
import { decodeQr, qrMatrix, qrSvgMarkup, QR_QUIET_ZONE } from '../src/qr.ts';
import { isSottoPayload } from '../src/scanner.ts';
import { drawMatrix, matrixFromCliText, matrixFromSvg, toRgba } from './support/qr-image.ts';

const rng = seededRng('web-qr');
const [alice, bob] = await Promise.all([IdentityKeyPair.generate(fastProvider, rng), IdentityKeyPair.generate(fastProvider, rng)]);
const aliceSees = sottoSafetyNumber(fastProvider, { username: 'alice', identityKey: alice.publicKey }, { username: 'bob', identityKey: bob.publicKey });
const bobSees = sottoSafetyNumber(fastProvider, { username: 'bob', identityKey: bob.publicKey }, { username: 'alice', identityKey: alice.publicKey });

function decodeMatrix(m: boolean[][], background: number): Uint8Array | undefined {
  const scale = 4;
  const side = (m.length + 8) * scale;
  const g = drawMatrix(m, scale, side, side, background);
  return decodeQr(toRgba(g), g.width, g.height);
}

test('the web client’s QR code decodes to the scannable payload, which the other side accepts', () => {
  const scanned = decodeMatrix(qrMatrix(bobSees.scannable), 255);
  assert.deepEqual(scanned, bobSees.scannable);
  assert.equal(compareScannable(aliceSees.scannable, scanned), 'match', 'alice scanning bob’s code verifies');
});

test('the SVG on screen shows exactly the encoded modules, with the quiet zone', () => {
  const m = qrMatrix(bobSees.scannable);
  assert.deepEqual(matrixFromSvg(qrSvgMarkup(bobSees.scannable)), m);
  for (let i = 0; i < QR_QUIET_ZONE; i++) assert.ok(m[i]?.every((dark) => !dark), `row ${i} is quiet`);
  // The test's SVG reader is not fooled by uqr's defaults (a different cell size, another border).
  assert.notDeepEqual(matrixFromSvg(renderSVG(Array.from(bobSees.scannable), { ecc: 'M', border: 1 })), m);
});

test('the CLI’s terminal QR code decodes to the same payload with the web client’s reader', () => {
  const text = renderQrCode(bobSees.scannable);
  const cli = matrixFromCliText(text);
  // The same symbol as the web client's, with a 2-module border instead of 4.
  const web = qrMatrix(bobSees.scannable);
  const inner = (m: boolean[][], border: number): boolean[][] => m.slice(border, m.length - border).map((r) => r.slice(border, r.length - border));
  assert.deepEqual(inner(cli, 2), inner(web, QR_QUIET_ZONE));
  // As a camera sees it on a dark terminal: the light border, then darkness around it.
  assert.deepEqual(decodeMatrix(cli, 0), bobSees.scannable);
});

test('only a Sotto scannable payload counts as a scan', () => {
  assert.ok(isSottoPayload(bobSees.scannable));
  assert.ok(!isSottoPayload(new TextEncoder().encode('https://example.org/')));
  assert.ok(!isSottoPayload(rng(bobSees.scannable.length)));
  assert.ok(!isSottoPayload(new Uint8Array(0)));
});
