// SFrame cost per call frame (docs/protocol/11 §11.5): one 20-ms Opus frame (160 bytes) through
// SframeSender.encrypt + SframeReceiver.decrypt (suite 5, AES_256_GCM_SHA512_128), next to raw
// AES-256-GCM from node:crypto (createCipheriv / createDecipheriv: seal + open of the same frames with a
// fresh nonce each) measured in the same run. The baseline is the floor: what SFrame adds on top is the
// header codec, the nonce XOR, the replay window and the provider's promise.
//
// Method as bench/protocol-bench.ts: one untimed warm-up round, then ROUNDS rounds (9, quick 3), in
// each round every contender runs one batch, in an order rotated per round; figures are medians over
// rounds of µs per frame (encrypt + decrypt); ratios compare medians of this run. Writes nothing:
// benchSframeNode returns the figures (Result[] as bench/results/*.json hold) for a caller to print
// or write.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SframeReceiver, SframeSender, nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { fastProvider } from '@sotto/crypto';
import { breathe, median, spread, type Result } from '../harness.ts';

/** An Opus frame of 20 ms at 64 kbit/s: 64000 / 8 / 50 = 160 bytes. */
export const OPUS_FRAME_BYTES = 160;
/** The frame period: a call sends 50 frames per second per direction. */
export const FRAME_MS = 20;

export interface SframeBenchOptions {
  readonly quick: boolean;
  /** Rounds (default 9, quick 3). */
  readonly rounds?: number | undefined;
}

export interface SframeBenchReport {
  readonly bench: 'sframe';
  readonly frameBytes: number;
  readonly rounds: number;
  readonly framesPerBatch: Readonly<Record<string, number>>;
  /** µs per frame (encrypt + decrypt), with the spread (IQR / median) of the rounds. */
  readonly contenders: readonly { readonly name: string; readonly microsPerFrame: number; readonly spread: number }[];
  /** The figures next to the raw AES-256-GCM baseline, as bench/results/*.json hold them (lower is better). */
  readonly results: readonly Result[];
}

interface Contender {
  readonly name: string;
  readonly frames: number;
  /** Runs `frames` frames through encrypt + decrypt; returns the seconds taken. */
  run(frames: readonly Uint8Array[]): Promise<number>;
  readonly samples: number[];
}

const RAW_NAME = 'raw AES-256-GCM (node:crypto createCipheriv)';

function rawGcm(frames: number): Contender {
  const key = randomBytes(32);
  const salt = randomBytes(12);
  let ctr = 0;
  return {
    name: RAW_NAME,
    frames,
    samples: [],
    run(input) {
      const t0 = performance.now();
      for (const frame of input) {
        const nonce = Buffer.from(salt);
        nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ ctr++) >>> 0, 8);
        const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
        const ct = Buffer.concat([c.update(frame), c.final()]);
        const tag = c.getAuthTag();
        const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
        d.setAuthTag(tag);
        const pt = Buffer.concat([d.update(ct), d.final()]);
        if (pt.length !== frame.length) throw new Error('raw AES-256-GCM round trip failed');
      }
      return Promise.resolve((performance.now() - t0) / 1000);
    },
  };
}

async function sframe(crypto: CryptoProvider, frames: number): Promise<Contender> {
  const baseKey = randomBytes(32);
  const sender = await SframeSender.create(crypto, { kid: 0, baseKey });
  const receiver = await SframeReceiver.create(crypto, { kid: 0, baseKey });
  return {
    name: `SFrame suite 5, ${crypto.name} provider`,
    frames,
    samples: [],
    async run(input) {
      const t0 = performance.now();
      for (const frame of input) {
        const pt = await receiver.decrypt(await sender.encrypt(frame));
        if (pt.length !== frame.length) throw new Error('SFrame round trip failed');
      }
      return (performance.now() - t0) / 1000;
    },
  };
}

/** Measures SFrame per 20-ms Opus frame against raw AES-256-GCM in Node; returns a JSON-able report. */
export async function benchSframeNode(opts: SframeBenchOptions): Promise<SframeBenchReport> {
  const rounds = opts.rounds ?? (opts.quick ? 3 : 9);
  const scale = opts.quick ? 0.1 : 1;
  const n = (x: number): number => Math.max(10, Math.round(x * scale));
  const contenders: Contender[] = [rawGcm(n(20_000)), await sframe(fastProvider, n(20_000)), await sframe(nobleProvider, n(2_000))];
  const maxFrames = Math.max(...contenders.map((c) => c.frames));
  const input = Array.from({ length: maxFrames }, () => new Uint8Array(randomBytes(OPUS_FRAME_BYTES)));

  for (let round = -1; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + Math.max(0, round)) % contenders.length];
      if (c === undefined) continue;
      const s = await c.run(input.slice(0, c.frames));
      if (round >= 0) c.samples.push((s * 1e6) / c.frames); // µs per frame
      await breathe();
    }
  }

  const raw = median(contenders[0]?.samples ?? []);
  const summary = contenders.map((c) => ({ name: c.name, microsPerFrame: median(c.samples), spread: spread(c.samples) }));
  const results: Result[] = summary.slice(1).map((c) => ({
    metric: `${c.name}: encrypt + decrypt of one ${OPUS_FRAME_BYTES}-byte (${FRAME_MS}-ms) Opus frame`,
    unit: 'µs/frame',
    value: c.microsPerFrame,
    baseline: RAW_NAME,
    baselineValue: raw,
    ratio: c.microsPerFrame / raw,
  }));
  return {
    bench: 'sframe',
    frameBytes: OPUS_FRAME_BYTES,
    rounds,
    framesPerBatch: Object.fromEntries(contenders.map((c) => [c.name, c.frames])),
    contenders: summary,
    results,
  };
}
