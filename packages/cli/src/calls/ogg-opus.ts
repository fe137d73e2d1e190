// Ogg Opus (RFC 7845) for voicemails: `sotto call --voicemail in.wav` sends the WAV's audio as Opus in
// an Ogg container, which browsers' <audio> plays (mime 'audio/ogg; codecs=opus', RFC 7845 §9). Pure:
// no codec here (voicemail.ts joins this to opus.ts), so the container is tested on its own.
//
// The muxer writes exactly one logical stream:
//   page 0   BOS, the 19-byte OpusHead packet alone, granule 0           (RFC 7845 §3, §5.1)
//   page 1   the OpusTags packet alone, granule 0                         (§3, §5.2: audio starts on a fresh page)
//   pages 2… audio packets, at most MAX_PACKETS_PER_PAGE per page; a packet larger than what is left of
//            a page's 255 lacing values continues on the next page (RFC 3533 §5, header flag 0x01); the
//            granule position is the pre-skip plus every sample of the packets COMPLETED on the page, or
//            -1 when none completes (RFC 7845 §4); the last page has EOS and the end-trimmed granule
//            (pre-skip + the real sample count, §4.5).
// Each page: "OggS", version 0, flags, granule (i64 LE), serial, sequence number, CRC-32 (polynomial
// 0x04C11DB7, initial value 0, no reflection, no final XOR, over the page with the CRC field zeroed),
// segment count and lacing values (RFC 3533 §6).
//
// The demuxer is strict, for what this muxer writes and what RFC 7845 allows of a stream that starts
// at time 0: one serial; sequence numbers 0, 1, 2, …; BOS on the first page only and EOS on the last
// only, nothing after it; every CRC correct; continuation flags that match the lacing; OpusHead alone on
// page 0, OpusTags ending a page of its own, header pages with granule 0; audio packets with a valid
// TOC (RFC 6716 §3.1) whose durations add up to every page's granule exactly, except the last page,
// which may trim (§4.5) but not below the page before it nor below the pre-skip. Anything else is
// ERR_CLI_AUDIO with a sentence; never a crash.
import { CliError } from '../errors.ts';

/** The Opus clock: granule positions count 48 kHz samples whatever the input rate (RFC 7845 §4). */
export const OGG_OPUS_RATE = 48_000;
/** The MIME type of a voicemail this CLI sends (RFC 7845 §9; printable ASCII, under 127 characters). */
export const OGG_OPUS_MIME = 'audio/ogg; codecs=opus';
/** Audio packets per page: 50 × 20 ms = 1 s, as opusenc pages (a player seeks and starts per page). */
export const MAX_PACKETS_PER_PAGE = 50;
/** Lacing values per page (RFC 3533 §6: the segment count is one byte). */
const MAX_SEGMENTS = 255;
const PAGE_HEADER_BYTES = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
/** RFC 7845 §4: a page on which no packet completes has granule position -1. */
const NO_GRANULE = -1n;
const OPUS_HEAD = 'OpusHead';
const OPUS_TAGS = 'OpusTags';
/** Largest packet the demuxer reassembles: an OpusTags with cover art of up to 1 MiB; audio packets
 *  are far smaller (RFC 6716 §3.2.5: at most 120 ms, 1275 bytes per frame). */
const MAX_PACKET_BYTES = 1024 * 1024;

export interface OpusHead {
  /** Output channels (mapping family 0: 1 or 2). */
  readonly channels: 1 | 2;
  /** Samples at 48 kHz to discard from the decoder's output at the start (RFC 7845 §5.1). */
  readonly preSkip: number;
  /** The input's sample rate, informational only (§5.1). */
  readonly inputSampleRate: number;
  /** Q7.8 dB (§5.1). */
  readonly outputGain: number;
}

export interface OggOpusStream {
  readonly head: OpusHead;
  readonly vendor: string;
  readonly comments: readonly string[];
  /** The audio packets, in order. */
  readonly packets: readonly Uint8Array[];
  /** The last page's granule position minus the pre-skip: the samples a player plays (48 kHz). */
  readonly samples: number;
}

export interface MuxOptions {
  readonly head: OpusHead;
  /** The logical stream's serial number (RFC 3533 §6: random, per stream). */
  readonly serial: number;
  readonly vendor: string;
  readonly comments?: readonly string[];
  /** The real audio length in 48 kHz samples: the end-trimmed granule is preSkip + samples (§4.5). */
  readonly samples: number;
}

const bad = (what: string): CliError => new CliError('ERR_CLI_AUDIO', `not a usable Ogg Opus file: ${what}`);

// --- CRC (RFC 3533 §6 "CRC checksum") --------------------------------------------------------------

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c1_1db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, initial 0, unreflected, no final XOR. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ b) & 0xff] ?? 0)) >>> 0;
  return crc;
}

// --- Opus packet durations (RFC 6716 §3.1) -------------------------------------------------------

/** Samples at 48 kHz of one frame for each TOC configuration (RFC 6716 §3.1, Table 2). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4] ?? 0; // SILK-only: 10, 20, 40, 60 ms
  if (config < 16) return [480, 960][config % 2] ?? 0; // Hybrid: 10, 20 ms
  return [120, 240, 480, 960][config % 4] ?? 0; // CELT-only: 2.5, 5, 10, 20 ms
}

/** The 48 kHz samples an Opus packet decodes to, from its TOC byte (and frame count byte for code 3);
 *  undefined for a packet that is empty or breaks §3.2.5 (no frames, or more than 120 ms). */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  const toc = packet[0];
  if (toc === undefined) return undefined;
  const per = frameSamples(toc >> 3);
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    const count = packet[1];
    if (count === undefined) return undefined;
    frames = count & 0x3f;
  }
  const total = frames * per;
  return frames === 0 || total > 5760 ? undefined : total; // §3.2.5: at most 120 ms
}

// --- headers (RFC 7845 §5) ---------------------------------------------------------------------

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function opusHeadPacket(h: OpusHead): Uint8Array {
  const out = new Uint8Array(19);
  const v = new DataView(out.buffer);
  out.set(ascii(OPUS_HEAD));
  out[8] = 1; // version 1 (§5.1)
  out[9] = h.channels;
  v.setUint16(10, h.preSkip, true);
  v.setUint32(12, h.inputSampleRate, true);
  v.setInt16(16, h.outputGain, true);
  out[18] = 0; // channel mapping family 0: mono or stereo, no table
  return out;
}

function opusTagsPacket(vendor: string, comments: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const v = enc.encode(vendor);
  const cs = comments.map((c) => enc.encode(c));
  // "OpusTags", vendor length + vendor, comment count, then each comment's length + bytes (§5.2).
  const out = new Uint8Array(8 + 4 + v.length + 4 + cs.reduce((n, c) => n + 4 + c.length, 0));
  const view = new DataView(out.buffer);
  out.set(ascii(OPUS_TAGS));
  view.setUint32(8, v.length, true);
  out.set(v, 12);
  let at = 12 + v.length;
  view.setUint32(at, cs.length, true);
  at += 4;
  for (const c of cs) {
    view.setUint32(at, c.length, true);
    out.set(c, at + 4);
    at += 4 + c.length;
  }
  return out;
}

function parseHead(p: Uint8Array): OpusHead {
  if (p.length < 19 || !startsWith(p, OPUS_HEAD)) throw bad('the first packet is not an OpusHead header (RFC 7845 §5.1)');
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const version = p[8] ?? 0;
  if (version >> 4 !== 0) throw bad(`OpusHead version ${version} is not a version 0.x/1.x this reader knows`);
  const channels = p[9] ?? 0;
  const family = p[18] ?? 0;
  if (family !== 0) throw bad(`channel mapping family ${family}; only family 0 (mono or stereo) is read`);
  if (channels !== 1 && channels !== 2) throw bad(`${channels} channels under mapping family 0, which allows 1 or 2`);
  if (p.length !== 19) throw bad(`an OpusHead of ${p.length} bytes; family 0 has exactly 19`);
  return { channels, preSkip: v.getUint16(10, true), inputSampleRate: v.getUint32(12, true), outputGain: v.getInt16(16, true) };
}

function parseTags(p: Uint8Array): { vendor: string; comments: string[] } {
  if (!startsWith(p, OPUS_TAGS)) throw bad('the second packet is not an OpusTags header (RFC 7845 §5.2)');
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = 8;
  const str = (what: string): string => {
    if (at + 4 > p.length) throw bad(`OpusTags ends inside the length of its ${what}`);
    const n = v.getUint32(at, true);
    if (n > p.length - at - 4) throw bad(`OpusTags' ${what} is longer than the packet`);
    const s = p.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    try {
      return dec.decode(s);
    } catch {
      throw bad(`OpusTags' ${what} is not UTF-8`);
    }
  };
  const vendor = str('vendor string');
  if (at + 4 > p.length) throw bad('OpusTags ends before its comment count');
  const count = v.getUint32(at, true);
  at += 4;
  if (count > (p.length - at) / 4) throw bad(`OpusTags claims ${count} comments, more than the packet can hold`);
  const comments: string[] = [];
  for (let i = 0; i < count; i++) comments.push(str('comment'));
  // §5.2: bytes after the comments are allowed (binary data a writer may add); they are ignored.
  return { vendor, comments };
}

function startsWith(p: Uint8Array, magic: string): boolean {
  for (let i = 0; i < magic.length; i++) if (p[i] !== magic.charCodeAt(i)) return false;
  return true;
}

// --- pages (RFC 3533 §6) -----------------------------------------------------------------------

function page(flags: number, granule: bigint, serial: number, seq: number, lacing: readonly number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(PAGE_HEADER_BYTES + lacing.length + body.length);
  const v = new DataView(out.buffer);
  out.set(ascii('OggS'));
  out[4] = 0; // stream structure version
  out[5] = flags;
  v.setBigInt64(6, granule, true);
  v.setUint32(14, serial >>> 0, true);
  v.setUint32(18, seq, true);
  out[26] = lacing.length;
  out.set(lacing, PAGE_HEADER_BYTES);
  out.set(body, PAGE_HEADER_BYTES + lacing.length);
  v.setUint32(22, oggCrc32(out), true); // computed with the field zero, then stored
  return out;
}

/** The lacing values of a packet (RFC 3533 §5): 255 per full segment, then the rest (0 if none). */
function lacingOf(length: number): number[] {
  const out = new Array<number>(Math.floor(length / 255)).fill(255);
  out.push(length % 255);
  return out;
}

/** Lays packets out in pages (RFC 3533 §5–6) and returns the pages' bytes. `granuleOf(done, last)`
 *  is the granule of a page on which `done` packets have completed in all (called only when at least
 *  one completes on it); `alone` puts each packet on a page of its own. */
function paginate(
  list: readonly Uint8Array[],
  o: { serial: number; firstSeq: number; alone: boolean; eos: boolean; noGranule: bigint; granuleOf: (done: number, last: boolean) => bigint },
): Uint8Array[] {
  const pages: Uint8Array[] = [];
  let lacing: number[] = [];
  let chunks: Uint8Array[] = [];
  let completedHere = 0;
  let done = 0;
  let startsContinued = false;
  const emit = (last: boolean): void => {
    const flags = (startsContinued ? FLAG_CONTINUED : 0) | (last && o.eos ? FLAG_EOS : 0);
    const granule = completedHere > 0 ? o.granuleOf(done, last) : o.noGranule;
    pages.push(page(flags, granule, o.serial, o.firstSeq + pages.length, lacing, concat(chunks)));
    lacing = [];
    chunks = [];
    completedHere = 0;
  };
  list.forEach((p, i) => {
    let at = 0;
    lacingOf(p.length).forEach((n, k) => {
      if (lacing.length === MAX_SEGMENTS) {
        emit(false);
        startsContinued = k > 0; // the new page begins inside this packet
      }
      lacing.push(n);
      chunks.push(p.subarray(at, at + n));
      at += n;
    });
    completedHere++;
    done++;
    const last = i === list.length - 1;
    if (last || o.alone || completedHere === MAX_PACKETS_PER_PAGE) {
      emit(last);
      startsContinued = false;
    }
  });
  return pages;
}

/** Writes the stream. Packets must be valid Opus packets (their TOCs give the granule positions). */
export function muxOggOpus(packets: readonly Uint8Array[], o: MuxOptions): Uint8Array {
  const h = o.head;
  if (!Number.isInteger(h.preSkip) || h.preSkip < 0 || h.preSkip > 0xffff) throw new RangeError('muxOggOpus: preSkip must fit 16 bits');
  if (!Number.isInteger(h.inputSampleRate) || h.inputSampleRate < 0 || h.inputSampleRate > 0xffff_ffff) throw new RangeError('muxOggOpus: inputSampleRate must fit 32 bits');
  if (!Number.isInteger(h.outputGain) || h.outputGain < -0x8000 || h.outputGain > 0x7fff) throw new RangeError('muxOggOpus: outputGain must fit 16 bits');
  if (packets.length === 0) throw new RangeError('muxOggOpus: no audio packets');
  const ends: number[] = []; // pre-skip plus the samples of packets 0..i
  let total = h.preSkip;
  packets.forEach((p, i) => {
    const d = opusPacketSamples(p);
    if (d === undefined) throw new RangeError(`muxOggOpus: packet ${i} is not a valid Opus packet (RFC 6716 §3.1)`);
    total += d;
    ends.push(total);
  });
  const beforeLast = ends.length > 1 ? (ends[ends.length - 2] ?? 0) : h.preSkip;
  const final = h.preSkip + o.samples;
  // §4.5: end trimming happens within the last packet, so the last page's granule stays above the page before it.
  if (!Number.isInteger(o.samples) || o.samples < 0 || final > total || final < beforeLast) {
    throw new RangeError(`muxOggOpus: ${o.samples} samples after a pre-skip of ${h.preSkip} do not end in the last packet (${total} in all)`);
  }
  const head = page(FLAG_BOS, 0n, o.serial, 0, lacingOf(19), opusHeadPacket(h)); // §3: alone, granule 0
  const tags = paginate([opusTagsPacket(o.vendor, o.comments ?? [])], { serial: o.serial, firstSeq: 1, alone: true, eos: false, noGranule: 0n, granuleOf: () => 0n }); // §3: header pages have granule 0
  const audio = paginate(packets, {
    serial: o.serial,
    firstSeq: 1 + tags.length,
    alone: false,
    eos: true,
    noGranule: NO_GRANULE,
    granuleOf: (done, last) => BigInt(last ? final : (ends[done - 1] ?? 0)),
  });
  return concat([head, ...tags, ...audio]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Page {
  readonly flags: number;
  readonly granule: bigint;
  readonly lacing: Uint8Array;
  readonly body: Uint8Array;
}

/** Splits the bytes into pages, checking each page's framing, CRC, serial and sequence number. */
function readPages(bytes: Uint8Array): Page[] {
  const pages: Page[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let serial = 0;
  while (at < bytes.length) {
    const n = pages.length;
    if (bytes.length - at < PAGE_HEADER_BYTES) throw bad(`page ${n} is cut short (${bytes.length - at} bytes left)`);
    if (!startsWith(bytes.subarray(at), 'OggS')) throw bad(n === 0 ? 'it does not start with an Ogg page ("OggS")' : `page ${n} does not start with "OggS"`);
    if (bytes[at + 4] !== 0) throw bad(`page ${n} has stream structure version ${bytes[at + 4] ?? 0}, not 0`);
    const flags = bytes[at + 5] ?? 0;
    if ((flags & ~0x07) !== 0) throw bad(`page ${n} has unknown header flags 0x${flags.toString(16)}`);
    const granule = v.getBigInt64(at + 6, true);
    const pageSerial = v.getUint32(at + 14, true);
    const seq = v.getUint32(at + 18, true);
    const crc = v.getUint32(at + 22, true);
    const count = bytes[at + 26] ?? 0;
    if (at + PAGE_HEADER_BYTES + count > bytes.length) throw bad(`page ${n}'s lacing values are cut short`);
    const lacing = bytes.subarray(at + PAGE_HEADER_BYTES, at + PAGE_HEADER_BYTES + count);
    const size = lacing.reduce((s, x) => s + x, 0);
    const end = at + PAGE_HEADER_BYTES + count + size;
    if (end > bytes.length) throw bad(`page ${n}'s data is cut short (${size} bytes declared)`);
    const copy = bytes.slice(at, end);
    copy.fill(0, 22, 26);
    if (oggCrc32(copy) !== crc) throw bad(`page ${n}'s CRC does not match (damaged file)`);
    if (n === 0) serial = pageSerial;
    else if (pageSerial !== serial) throw bad(`page ${n} belongs to another logical stream (serial ${pageSerial}); only one stream is read`);
    if (seq !== n) throw bad(`page ${n} has sequence number ${seq} (a page is missing or out of order)`);
    if ((flags & FLAG_BOS) !== 0 !== (n === 0)) throw bad(n === 0 ? 'the first page is not marked as the beginning of the stream' : `page ${n} is marked as the beginning of a stream`);
    pages.push({ flags, granule, lacing, body: bytes.subarray(at + PAGE_HEADER_BYTES + count, end) });
    at = end;
  }
  if (pages.length === 0) throw bad('it is empty');
  pages.forEach((p, i) => {
    if ((p.flags & FLAG_EOS) !== 0 !== (i === pages.length - 1)) throw bad(i === pages.length - 1 ? 'the last page is not marked as the end of the stream (truncated?)' : `page ${i} is marked as the end of the stream, but more follows`);
  });
  return pages;
}

/** Reads an Ogg Opus stream strictly (see the header). ERR_CLI_AUDIO for anything else. */
export function demuxOggOpus(bytes: Uint8Array): OggOpusStream {
  const pages = readPages(bytes);
  const packets: Uint8Array[] = [];
  let partial: Uint8Array[] = [];
  let head: OpusHead | undefined;
  let tags: { vendor: string; comments: string[] } | undefined;
  let sum = 0; // pre-skip plus the samples of the audio packets so far
  let lastGranule = 0n;
  let audioPages = 0;
  pages.forEach((pg, i) => {
    const continued = (pg.flags & FLAG_CONTINUED) !== 0;
    if (continued !== partial.length > 0) throw bad(continued ? `page ${i} claims to continue a packet, but none is open` : `page ${i} does not continue the packet the page before left open`);
    const headerPage = tags === undefined; // the headers end on a page of their own (§3)
    let at = 0;
    let completed = 0;
    let segmentStart = 0;
    pg.lacing.forEach((n, k) => {
      at += n;
      if (n === 255) {
        if (partial.reduce((s, x) => s + x.length, 0) + (at - segmentStart) > MAX_PACKET_BYTES) throw bad(`a packet is larger than ${MAX_PACKET_BYTES} bytes`);
        return;
      }
      partial.push(pg.body.subarray(segmentStart, at));
      segmentStart = at;
      const packet = concat(partial);
      partial = [];
      completed++;
      const lastOnPage = k === pg.lacing.length - 1;
      if (head === undefined) {
        if (i !== 0 || !lastOnPage) throw bad('the OpusHead header is not alone on the first page (RFC 7845 §3)');
        head = parseHead(packet);
        sum = head.preSkip;
      } else if (tags === undefined) {
        if (i === 0) throw bad('the OpusHead header is not alone on the first page (RFC 7845 §3)');
        if (!lastOnPage) throw bad('audio begins on the page that ends the OpusTags header (RFC 7845 §3)');
        tags = parseTags(packet);
      } else {
        const d = opusPacketSamples(packet);
        if (d === undefined) throw bad(`audio packet ${packets.length} is not a valid Opus packet (RFC 6716 §3.1)`);
        sum += d;
        packets.push(packet);
      }
    });
    if (segmentStart < at) partial.push(pg.body.subarray(segmentStart, at));
    if (headerPage) {
      if (pg.granule !== 0n) throw bad(`header page ${i} has granule position ${pg.granule}, not 0 (RFC 7845 §3)`);
      return;
    }
    audioPages++;
    if (completed === 0) {
      if (pg.granule !== NO_GRANULE) throw bad(`page ${i} completes no packet but has granule position ${pg.granule}, not -1 (RFC 7845 §4)`);
      return;
    }
    const last = i === pages.length - 1;
    if (!last && pg.granule !== BigInt(sum)) throw bad(`page ${i} has granule position ${pg.granule}; its packets end at ${sum} (RFC 7845 §4)`);
    if (last && (pg.granule > BigInt(sum) || pg.granule < lastGranule || pg.granule < BigInt(head?.preSkip ?? 0))) {
      throw bad(`the last page's granule position ${pg.granule} is outside what end trimming allows (${lastGranule} to ${sum}, RFC 7845 §4.5)`);
    }
    lastGranule = pg.granule;
  });
  if (partial.length > 0) throw bad('the last packet is cut short');
  if (head === undefined) throw bad('there is no OpusHead header');
  if (tags === undefined) throw bad('there is no OpusTags header (RFC 7845 §5.2)');
  if (packets.length === 0 || audioPages === 0) throw bad('it holds no audio');
  return { head, vendor: tags.vendor, comments: tags.comments, packets, samples: Number(lastGranule) - head.preSkip };
}
