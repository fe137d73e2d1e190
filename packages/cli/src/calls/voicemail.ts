// A voicemail's audio (docs/protocol/11 §11.6): the --voicemail WAV, already mono 48 kHz, encoded as
// 20 ms Opus frames (opus.ts) in an Ogg Opus file (ogg-opus.ts, RFC 7845), which browsers play. And
// back: decodeOggOpus() turns such a file into mono 48 kHz samples (tests; a future `play`).
//
// Timing (RFC 7845 §4.2, §5.1): libopus delays its output by the encoder's look-ahead, so the file
// says to skip OPUS_PRE_SKIP samples at the start; enough frames are encoded to cover the input plus
// that delay (the last one padded with silence), and the last page's granule position trims the
// padding (§4.5), so a player plays exactly the input's length.
import { randomInt } from 'node:crypto';
import { CliError } from '../errors.ts';
import { FRAME_SAMPLES, OpusDecoder, OpusEncoder } from './opus.ts';
import { demuxOggOpus, muxOggOpus, OGG_OPUS_RATE } from './ogg-opus.ts';

/** libopus's encoder look-ahead at 48 kHz (opus_encoder.c: Fs/400 + the Fs/250 delay compensation =
 *  120 + 192 samples): the decoder's first 312 output samples precede the input (RFC 7845 §5.1). */
export const OPUS_PRE_SKIP = 312;
/** The OpusTags vendor string (§5.2). */
const VENDOR = 'Sotto CLI (libopus, opusscript)';

export interface EncodedVoicemail {
  readonly bytes: Uint8Array;
  /** The audio's length in whole milliseconds (the `voicemail` body's durationMs, §11.6). */
  readonly durationMs: number;
}

/** Encodes mono 48 kHz samples as an Ogg Opus file. */
export function encodeVoicemail(samples: Int16Array): EncodedVoicemail {
  if (samples.length === 0) throw new CliError('ERR_CLI_AUDIO', 'the voicemail holds no audio');
  const frames = Math.ceil((samples.length + OPUS_PRE_SKIP) / FRAME_SAMPLES);
  const encoder = new OpusEncoder();
  const packets: Uint8Array[] = [];
  try {
    for (let f = 0; f < frames; f++) {
      const frame = new Int16Array(FRAME_SAMPLES); // the tail beyond the input stays silent
      frame.set(samples.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
      packets.push(encoder.encode(frame));
    }
  } finally {
    encoder.close();
  }
  const bytes = muxOggOpus(packets, {
    head: { channels: 1, preSkip: OPUS_PRE_SKIP, inputSampleRate: OGG_OPUS_RATE, outputGain: 0 },
    serial: randomInt(0, 0x1_0000_0000),
    vendor: VENDOR,
    samples: samples.length,
  });
  return { bytes, durationMs: Math.round((samples.length * 1000) / OGG_OPUS_RATE) };
}

/** Decodes an Ogg Opus file (read strictly, ogg-opus.ts) to mono 48 kHz: pre-skip dropped, end trimmed. */
export function decodeOggOpus(bytes: Uint8Array): Int16Array {
  const stream = demuxOggOpus(bytes);
  const decoder = new OpusDecoder();
  const parts: Int16Array[] = [];
  let length = 0;
  try {
    for (const p of stream.packets) {
      const pcm = decoder.decode(p);
      parts.push(pcm);
      length += pcm.length;
    }
  } catch (e) {
    throw new CliError('ERR_CLI_AUDIO', 'not a usable Ogg Opus file: libopus refused one of its packets', { cause: e });
  } finally {
    decoder.close();
  }
  const all = new Int16Array(length);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const start = Math.min(stream.head.preSkip, all.length);
  return all.slice(start, Math.min(all.length, start + stream.samples));
}
