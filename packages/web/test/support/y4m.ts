// A YUV4MPEG2 (.y4m) video for Chromium's fake camera (`--use-file-for-fake-video-capture`): the header,
// then identical frames of a grayscale picture in 4:2:0 (the luma plane, then both chroma planes at
// the neutral 128). Chromium loops the file and re-reads it whenever a capture starts, so a test can
// write the picture after the browser was launched (test/qr-scan.test.ts).

import type { Gray } from './qr-image.ts';

export function y4mVideo(picture: Gray, frames = 10, fps = 10): Uint8Array {
  const { width, height, luma } = picture;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error('4:2:0 needs even dimensions');
  const header = new TextEncoder().encode(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frameHeader = new TextEncoder().encode('FRAME\n');
  const chroma = (width / 2) * (height / 2);
  const frameLen = frameHeader.length + luma.length + 2 * chroma;
  const out = new Uint8Array(header.length + frames * frameLen);
  out.set(header, 0);
  for (let f = 0; f < frames; f++) {
    const at = header.length + f * frameLen;
    out.set(frameHeader, at);
    out.set(luma, at + frameHeader.length);
    out.fill(128, at + frameHeader.length + luma.length, at + frameLen);
  }
  return out;
}
