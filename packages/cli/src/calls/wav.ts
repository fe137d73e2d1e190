// WAV files for `sotto call` / `sotto answer` (--play, --record): RIFF/WAVE with 16-bit PCM only.
//
// Reading (--play): a RIFF "WAVE" file whose "fmt " chunk says PCM (format 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), 16 bits per sample, 1 or 2 channels, any sample
// rate from 8 kHz to 192 kHz, followed (in any order with other chunks, which are skipped) by a
// "data" chunk. Anything else — 8/24/32-bit, float, A-law, more channels, a truncated chunk — is a
// typed ERR_CLI_AUDIO with a sentence saying what was found; never a crash, whatever the bytes.
// The one leniency: a data size of 0xFFFFFFFF (written by tools that stream to a pipe and cannot seek
// back) means "up to the end of the file".
//
// What the call sends is mono 48 kHz (the Opus clock, RFC 7587 §4.1), so toMono48k() averages the two
// channels of a stereo file and resamples any other rate by LINEAR INTERPOLATION between the two
// nearest input samples. That is the simple method, documented as such: it has no anti-aliasing
// filter, so a file above 48 kHz with content above 24 kHz aliases, and up-sampling (8/16 kHz speech)
// sounds slightly dull. Good enough for tones and speech; convert with a real resampler for music.
//
// Writing (--record): mono 16-bit 48 kHz, streamed to disk (WavWriter): the header is written with
// zero sizes first and patched on close, so a long call never sits in memory.
import { open, type FileHandle } from 'node:fs/promises';
import { CliError } from '../errors.ts';
import { MAX_RECORD_DATA_BYTES } from '../limits.ts';

/** The rate every call's audio runs at (RFC 7587 §4.1: Opus RTP always uses a 48 kHz clock). */
export const CALL_SAMPLE_RATE = 48_000;

/** Sample rates a --play file may have. */
export const MIN_WAV_SAMPLE_RATE = 8_000;
export const MAX_WAV_SAMPLE_RATE = 192_000;

/** A decoded WAV: interleaved signed 16-bit samples. */
export interface PcmAudio {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Interleaved (L R L R ... for stereo); length is a multiple of `channels`. */
  readonly samples: Int16Array;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** KSDATAFORMAT_SUBTYPE_PCM, 00000001-0000-0010-8000-00aa00389b71, as stored (GUID byte order). */
const SUBFORMAT_PCM = Uint8Array.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
/** The data size a streaming writer leaves when it cannot seek back. */
const UNKNOWN_SIZE = 0xffff_ffff;

const bad = (what: string): CliError => new CliError('ERR_CLI_AUDIO', what);

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);
}

/** For messages: a four-character code with anything unprintable shown as '?'. */
function printable(code: string): string {
  return code.replace(/[^\x20-\x7e]/g, '?');
}

interface Format {
  readonly format: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly blockAlign: number;
  readonly bitsPerSample: number;
}

function parseFmt(view: DataView, bytes: Uint8Array, at: number, size: number): Format {
  if (size < 16) throw bad(`not a usable WAV file: its "fmt " chunk has ${size} bytes, expected at least 16`);
  const fmt: Format = {
    format: view.getUint16(at, true),
    channels: view.getUint16(at + 2, true),
    sampleRate: view.getUint32(at + 4, true),
    blockAlign: view.getUint16(at + 12, true),
    bitsPerSample: view.getUint16(at + 14, true),
  };
  let isPcm = fmt.format === WAVE_FORMAT_PCM;
  if (fmt.format === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize (2) validBits (2) channelMask (4) subFormat GUID (16) after the 16 bytes.
    if (size < 40) throw bad(`not a usable WAV file: its extensible "fmt " chunk has ${size} bytes, expected 40`);
    const guid = bytes.subarray(at + 24, at + 40);
    isPcm = guid.every((b, i) => b === SUBFORMAT_PCM[i]);
  }
  if (!isPcm) throw bad(`the WAV file is not PCM (format 0x${fmt.format.toString(16).padStart(4, '0')}); convert it to 16-bit PCM`);
  if (fmt.bitsPerSample !== 16) throw bad(`the WAV file has ${fmt.bitsPerSample}-bit samples; only 16-bit PCM is supported (convert it, e.g. with sox or ffmpeg)`);
  if (fmt.channels !== 1 && fmt.channels !== 2) throw bad(`the WAV file has ${fmt.channels} channels; only mono or stereo is supported`);
  if (fmt.blockAlign !== fmt.channels * 2) throw bad(`not a usable WAV file: block align ${fmt.blockAlign} does not match ${fmt.channels} channel(s) of 16 bits`);
  if (fmt.sampleRate < MIN_WAV_SAMPLE_RATE || fmt.sampleRate > MAX_WAV_SAMPLE_RATE) {
    throw bad(`the WAV file's sample rate is ${fmt.sampleRate} Hz; expected ${MIN_WAV_SAMPLE_RATE} to ${MAX_WAV_SAMPLE_RATE} Hz`);
  }
  return fmt;
}

/** Parses a WAV file (see the header for what is accepted). Throws CliError ERR_CLI_AUDIO. */
export function parseWav(bytes: Uint8Array): PcmAudio {
  if (bytes.length < RIFF_HEADER_BYTES || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') {
    throw bad('not a WAV file: expected a RIFF/WAVE header');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: Format | undefined;
  let at = RIFF_HEADER_BYTES;
  while (at + CHUNK_HEADER_BYTES <= bytes.length) {
    const id = fourcc(bytes, at);
    const declared = view.getUint32(at + 4, true);
    const body = at + CHUNK_HEADER_BYTES;
    const available = bytes.length - body;
    if (id === 'data') {
      if (fmt === undefined) throw bad('not a usable WAV file: the "data" chunk comes before the "fmt " chunk');
      let size = declared;
      if (declared === UNKNOWN_SIZE) size = available - (available % fmt.blockAlign);
      else if (declared > available) throw bad(`the WAV file is truncated: its data chunk declares ${declared} bytes, ${available} are present`);
      if (size % fmt.blockAlign !== 0) throw bad(`not a usable WAV file: ${size} data bytes is not a whole number of ${fmt.blockAlign}-byte frames`);
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + 2 * i, true);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels as 1 | 2, samples };
    }
    if (declared > available) throw bad(`the WAV file is truncated: its "${printable(id)}" chunk declares ${declared} bytes, ${available} are present`);
    if (id === 'fmt ') {
      if (fmt !== undefined) throw bad('not a usable WAV file: it has two "fmt " chunks');
      fmt = parseFmt(view, bytes, body, declared);
    }
    at = body + declared + (declared % 2); // RIFF chunks are padded to an even size
  }
  throw bad(fmt === undefined ? 'not a usable WAV file: no "fmt " chunk' : 'the WAV file has no "data" chunk (no audio)');
}

/** Mono at CALL_SAMPLE_RATE: stereo averaged, other rates resampled by linear interpolation (see the header). */
export function toMono48k(audio: PcmAudio): Int16Array {
  const frames = audio.samples.length / audio.channels;
  const mono = new Int16Array(frames);
  if (audio.channels === 1) mono.set(audio.samples);
  else for (let i = 0; i < frames; i++) mono[i] = Math.round(((audio.samples[2 * i] ?? 0) + (audio.samples[2 * i + 1] ?? 0)) / 2);
  return resampleLinear(mono, audio.sampleRate, CALL_SAMPLE_RATE);
}

/** Linear interpolation from `from` Hz to `to` Hz: output sample n sits at input position n·from/to,
 *  between input samples ⌊p⌋ and ⌊p⌋+1, weighted by the fraction. The last input sample is held. */
export function resampleLinear(input: Int16Array, from: number, to: number): Int16Array {
  if (from === to || input.length === 0) return input.slice();
  const length = Math.floor((input.length * to) / from);
  const out = new Int16Array(length);
  const step = from / to;
  for (let n = 0; n < length; n++) {
    const p = n * step;
    const i = Math.floor(p);
    const frac = p - i;
    const a = input[i] ?? 0;
    const b = input[Math.min(i + 1, input.length - 1)] ?? a;
    out[n] = Math.round(a + (b - a) * frac);
  }
  return out;
}

/** The 44-byte canonical header of a 16-bit PCM WAV (RIFF, "fmt " of 16 bytes, "data"). */
export function wavHeader(dataBytes: number, sampleRate: number, channels: 1 | 2): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) h[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, WAVE_FORMAT_PCM, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true); // byte rate
  v.setUint16(32, channels * 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  return h;
}

/** Little-endian bytes of 16-bit samples (WAV's byte order on any host). */
export function pcmBytes(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) v.setInt16(2 * i, samples[i] ?? 0, true);
  return out;
}

/** A whole WAV file in memory (tests, short clips). */
export function encodeWav(samples: Int16Array, sampleRate: number, channels: 1 | 2 = 1): Uint8Array {
  if (samples.length % channels !== 0) throw new RangeError('encodeWav: the sample count is not a multiple of the channel count');
  const data = pcmBytes(samples);
  const out = new Uint8Array(44 + data.length);
  out.set(wavHeader(data.length, sampleRate, channels), 0);
  out.set(data, 44);
  return out;
}

/**
 * A mono 48 kHz WAV written while the call runs. Writes are queued in order; close() patches the
 * sizes in the header. The file is created fresh (O_EXCL is not used: --record names the file the
 * user wants, and an existing one is replaced, like `sox` and `ffmpeg -y` do). Past
 * MAX_RECORD_DATA_BYTES further audio is dropped and `full` is set.
 */
export class WavWriter {
  readonly #file: FileHandle;
  readonly #path: string;
  #chain: Promise<void> = Promise.resolve();
  #dataBytes = 0;
  #failure: unknown = undefined;
  #full = false;
  #closed = false;

  private constructor(file: FileHandle, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Creates (or truncates) `path` and writes a header with zero sizes. ERR_CLI_AUDIO if it cannot. */
  static async create(path: string): Promise<WavWriter> {
    let file: FileHandle;
    try {
      file = await open(path, 'w', 0o600);
      await file.write(wavHeader(0, CALL_SAMPLE_RATE, 1), 0, 44, 0);
    } catch (e) {
      throw new CliError('ERR_CLI_AUDIO', `cannot write the recording ${path}: ${errnoText(e)}`, { cause: e });
    }
    return new WavWriter(file, path);
  }

  /** Samples written so far. */
  get samples(): number {
    return this.#dataBytes / 2;
  }

  /** True once MAX_RECORD_DATA_BYTES was reached. */
  get full(): boolean {
    return this.#full;
  }

  /** Appends samples (queued; a write error is reported by close()). */
  write(samples: Int16Array): void {
    if (this.#closed || this.#failure !== undefined || samples.length === 0) return;
    let bytes = pcmBytes(samples);
    const room = MAX_RECORD_DATA_BYTES - this.#dataBytes;
    if (bytes.length > room) {
      bytes = bytes.subarray(0, room - (room % 2));
      this.#full = true;
    }
    if (bytes.length === 0) return;
    const position = 44 + this.#dataBytes;
    this.#dataBytes += bytes.length;
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        await this.#file.write(bytes, 0, bytes.length, position);
      } catch (e) {
        this.#failure = e;
      }
    });
  }

  /** Waits for the queued writes, patches the header and closes. ERR_CLI_AUDIO if anything failed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#chain;
    try {
      if (this.#failure === undefined) await this.#file.write(wavHeader(this.#dataBytes, CALL_SAMPLE_RATE, 1), 0, 44, 0);
    } catch (e) {
      this.#failure = e;
    } finally {
      await this.#file.close().catch(() => undefined);
    }
    if (this.#failure !== undefined) {
      throw new CliError('ERR_CLI_AUDIO', `cannot write the recording ${this.#path}: ${errnoText(this.#failure)}`, { cause: this.#failure });
    }
  }
}

function errnoText(e: unknown): string {
  const code: unknown = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
