// Small pure formatters for what the views show.

/** 1234567 → "1.2 MB"; exact bytes below 1 kB (the CLI's units, packages/cli/src/internal/format.ts). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u] ?? 'GB'}`;
}

/** "14:05" today, "31 Jan 14:05" on another day, in the browser's locale and time zone. */
export function formatTime(ms: number, now: number): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return new Date(now).toDateString() === d.toDateString() ? time : `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A file name from someone else, safe to show: bidirectional controls (which can disguise
 *  "gpj.exe" as "exe.jpg") become visible `<U+XXXX>` marks. Control characters never get here: the
 *  SDK refuses names holding them (docs/protocol/10 §10.2). */
export function displayFileName(name: string): string {
  return name.replace(BIDI, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/** Image types shown inline: raster formats only (an SVG is a document that could carry links). */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

export function isInlineImage(mime: string): boolean {
  return INLINE_IMAGE_TYPES.has(mime.toLowerCase());
}

/** The MIME type to send for a picked file: the browser's guess when it is plain printable ASCII
 *  (docs/protocol/10 §10.2 refuses anything else), else the generic binary type. */
export function mimeForUpload(type: string): string {
  return /^[\x21-\x7e]{1,127}$/.test(type) && type.includes('/') ? type : 'application/octet-stream';
}
