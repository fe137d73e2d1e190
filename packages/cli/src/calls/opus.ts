// Opus (RFC 6716) for the CLI's calls, through opusscript: libopus compiled to WebAssembly, shipped
// inside the npm package (no native build, nothing downloaded at install time).
//
// One encoder and one decoder per call, mono at 48 kHz (RFC 7587 §4.1: the RTP clock of Opus is
// always 48 kHz; a mono stream is valid whatever the `opus/48000/2` rtpmap says, §7), 20 ms frames
// (960 samples: WebRTC's default ptime). The decoder decodes whatever duration a packet holds
// (2.5 to 120 ms), so a browser peer with another frame size still plays.
//
// Node 20 caveat (seen on 20.20.2): a process that ends naturally while V8 is still tiering the
// libopus module up to TurboFan in the background never exits. So the first use turns wasm tier-up
// off for this process (--no-wasm-tier-up: the module stays on the Liftoff baseline compiler, which
// encodes plus decodes a 20 ms frame in about 2 ms — ten times faster than real time).
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type OpusScriptType from 'opusscript';
import { CALL_SAMPLE_RATE } from './wav.ts';

/** Samples in one 20 ms frame at 48 kHz: what the encoder takes and the RTP timestamp advances by. */
export const FRAME_SAMPLES = 960;
/** Milliseconds per frame. */
export const FRAME_MS = 20;
/** OPUS_SET_BITRATE_REQUEST (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
/** Bits per second: 32 kb/s, WebRTC's usual mono speech rate (RFC 7587 §3.1.1 recommends 8–40 kb/s for wideband/fullband speech). */
export const OPUS_BITRATE = 32_000;

let OpusScript: typeof OpusScriptType | undefined;

function opusscript(): typeof OpusScriptType {
  if (OpusScript === undefined) {
    setFlagsFromString('--no-wasm-tier-up'); // see the header: before the module is compiled
    const require = createRequire(import.meta.url);
    OpusScript = require('opusscript') as typeof OpusScriptType;
  }
  return OpusScript;
}

/** Encodes 20 ms mono frames. */
export class OpusEncoder {
  readonly #opus: OpusScriptType;
  #closed = false;

  constructor() {
    const Opus = opusscript();
    this.#opus = new Opus(CALL_SAMPLE_RATE, 1, Opus.Application.VOIP);
    this.#opus.encoderCTL(OPUS_SET_BITRATE, OPUS_BITRATE);
  }

  /** One Opus packet for exactly FRAME_SAMPLES samples. */
  encode(frame: Int16Array): Uint8Array {
    if (this.#closed) throw new Error('OpusEncoder: used after close()');
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`OpusEncoder: expected ${FRAME_SAMPLES} samples, got ${frame.length}`);
    // opusscript takes the PCM as little-endian bytes in a Buffer.
    const packet = this.#opus.encode(Buffer.from(littleEndian(frame)), FRAME_SAMPLES);
    return new Uint8Array(packet);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opus.delete();
  }
}

/** Decodes Opus packets to mono 48 kHz samples. */
export class OpusDecoder {
  readonly #opus: OpusScriptType;
  #closed = false;

  constructor() {
    const Opus = opusscript();
    this.#opus = new Opus(CALL_SAMPLE_RATE, 1, Opus.Application.VOIP);
  }

  /** The packet's samples (960 for a 20 ms packet). Throws on a packet libopus refuses. */
  decode(packet: Uint8Array): Int16Array {
    if (this.#closed) throw new Error('OpusDecoder: used after close()');
    if (packet.length === 0) throw new RangeError('OpusDecoder: empty packet');
    const pcm = this.#opus.decode(Buffer.from(packet));
    const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const out = new Int16Array(pcm.byteLength >> 1);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opus.delete();
  }
}

function littleEndian(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) v.setInt16(2 * i, samples[i] ?? 0, true);
  return out;
}
