// QR codes as images for the tests: read back the module matrix from what each client shows (the web
// client's SVG, the CLI's half-block text), and draw a matrix as grayscale pixels — for jsQR in Node
// and for the fake camera's Y4M video (./y4m.ts).

export type Matrix = boolean[][]; // true = dark module

/** The modules of the web client's QR code from its SVG (uqr: one path of `M x,y h s v s h -s z`
 *  squares, one per dark module, on a light rect covering the whole symbol). */
export function matrixFromSvg(svg: string): Matrix {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const d = /<path[^>]* d="([^"]*)"/.exec(svg)?.[1];
  const squares = [...(d ?? '').matchAll(/M(\d+),(\d+)h(\d+)v\3h-\3z/g)];
  const size = Number(viewBox?.[1] ?? 0);
  const cell = Number(squares[0]?.[3] ?? 0);
  if (viewBox === null || d === undefined || cell === 0 || size % cell !== 0) throw new Error('not an uqr SVG QR code');
  const n = size / cell;
  const m: Matrix = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const s of squares) {
    const row = m[Number(s[2]) / cell];
    if (row !== undefined) row[Number(s[1]) / cell] = true;
  }
  return m;
}

/** The modules of the CLI's QR code (packages/cli/src/internal/format.ts renderQrCode): uqr's compact
 *  Unicode rendering, two modules per character, where the glyph draws the LIGHT modules (so the code
 *  reads right as light text on a dark terminal): █ both light, ▀ top light, ▄ bottom light, space none. */
export function matrixFromCliText(text: string): Matrix {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const width = Array.from(lines[0] ?? '').length;
  const rows: Matrix = [];
  for (const line of lines) {
    const chars = Array.from(line);
    if (chars.length !== width) throw new Error('ragged QR text');
    rows.push(chars.map((c) => !(c === '█' || c === '▀')));
    rows.push(chars.map((c) => !(c === '█' || c === '▄')));
  }
  return rows.slice(0, width); // an odd size leaves one padding row at the bottom
}

export interface Gray {
  readonly width: number;
  readonly height: number;
  /** One byte per pixel, 0 black .. 255 white. */
  readonly luma: Uint8Array;
}

/** Draws `m` with `scale` pixels per module, centred on a `width` × `height` canvas of `background`
 *  (255: a page; 0: a dark terminal around the CLI's own light border). */
export function drawMatrix(m: Matrix, scale: number, width: number, height: number, background: number): Gray {
  const luma = new Uint8Array(width * height).fill(background);
  const size = m.length * scale;
  const x0 = Math.floor((width - size) / 2);
  const y0 = Math.floor((height - size) / 2);
  if (x0 < 0 || y0 < 0) throw new Error(`a ${m.length}-module code at scale ${scale} does not fit ${width}×${height}`);
  m.forEach((row, r) => {
    row.forEach((dark, c) => {
      for (let dy = 0; dy < scale; dy++) luma.fill(dark ? 0 : 255, (y0 + r * scale + dy) * width + x0 + c * scale, (y0 + r * scale + dy) * width + x0 + (c + 1) * scale);
    });
  });
  return { width, height, luma };
}

/** The same image as RGBA, as a canvas's getImageData gives it (what jsQR reads). */
export function toRgba(g: Gray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(g.width * g.height * 4);
  g.luma.forEach((v, i) => {
    out.set([v, v, v, 255], i * 4);
  });
  return out;
}
