// Audio a call test can judge (shared/notes/browser-calls.md "Audio that a test can judge"): a pure
// sine tone per user as Chromium's fake microphone (a WAV file given at launch), and, in the page, the
// dominant frequency of what the other side's <audio> plays, measured with an AnalyserNode. A tone
// that arrives is heard at its own frequency; ciphertext or nothing is not.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tone } from '@sotto/test-support';
import { withChromium, type LaunchOptions } from '@sotto/test-support/browser';
import type { Browser, Locator, Page } from 'playwright-core';
import { encodeWav } from '../../../cli/src/calls/wav.ts';

/** A 16-bit mono PCM WAV of a sine at `hz` (48 kHz, `seconds` long, Chromium loops it), at half scale. */
export function writeToneWav(path: string, hz: number, seconds = 4): void {
  writeFileSync(path, encodeWav(tone(hz, seconds, 16_384), 48_000, 1));
}

/** One person's browser: Chromium whose fake microphone plays `hz` (written to <dir>/<who>-<hz>.wav;
 *  the file is a launch flag, so one browser per person), closed when the test ends. */
export function chromiumWithTone(t: Parameters<typeof withChromium>[0], dir: string, who: string, hz: number, opts: Omit<LaunchOptions, 'fakeAudioFile'> = {}): Promise<Browser> {
  const wav = join(dir, `${who}-${hz}.wav`);
  writeToneWav(wav, hz);
  return withChromium(t, { ...opts, fakeAudioFile: wav });
}

/** What the page heard: the strongest frequency (Hz) and its level (dBFS), or no frequency when the
 *  strongest bin is below `floorDb` (silence, or nothing decoded). */
export interface Heard {
  readonly hz: number | undefined;
  readonly db: number;
}

/** Analyses the MediaStream playing in the first <audio> matching `selector` for about `ms`, and
 *  returns the dominant frequency averaged over the window (FFT bins of 48000/8192 ≈ 5.9 Hz). */
export async function dominantFrequency(page: Page, selector: string, ms = 700, floorDb = -70): Promise<Heard> {
  return page.evaluate(
    async ({ selector, ms, floorDb }) => {
      const el = document.querySelector(selector);
      if (!(el instanceof HTMLAudioElement) || !(el.srcObject instanceof MediaStream)) throw new Error(`expected an <audio> with a MediaStream at ${selector}`);
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(el.srcObject).connect(analyser);
      const sum = new Float32Array(analyser.frequencyBinCount);
      const bins = new Float32Array(analyser.frequencyBinCount);
      let frames = 0;
      const end = performance.now() + ms;
      await new Promise((r) => setTimeout(r, 200)); // let the analyser fill its window
      while (performance.now() < end) {
        analyser.getFloatFrequencyData(bins);
        for (let i = 0; i < bins.length; i++) sum[i] = (sum[i] ?? 0) + Math.max(bins[i] ?? -200, -200);
        frames++;
        await new Promise((r) => setTimeout(r, 50));
      }
      let best = 1;
      for (let i = 2; i < sum.length; i++) if ((sum[i] ?? -Infinity) > (sum[best] ?? -Infinity)) best = i;
      const db = (sum[best] ?? -200) / Math.max(frames, 1);
      const hz = (best * ctx.sampleRate) / analyser.fftSize;
      await ctx.close();
      return { hz: db < floorDb ? undefined : hz, db };
    },
    { selector, ms, floorDb },
  );
}

/** Whether `heard` is `hz` within two FFT bins. */
export function isTone(heard: Heard, hz: number): boolean {
  return heard.hz !== undefined && Math.abs(heard.hz - hz) <= 12;
}

/** Plays the <audio> element `player` (a recording with a src, e.g. a voicemail's blob: URL) from the
 *  start to its end through an AnalyserNode, and returns the dominant frequency averaged over what played
 *  (as dominantFrequency; the first 200 ms, which may be the recorder starting, are left out). */
export async function playedFrequency(player: Locator, maxMs = 10_000, floorDb = -70): Promise<Heard> {
  return player.evaluate(
    async (el, { maxMs, floorDb }) => {
      if (!(el instanceof HTMLAudioElement) || el.src === '') throw new Error('expected an <audio> with a src');
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaElementSource(el).connect(analyser);
      const sum = new Float32Array(analyser.frequencyBinCount);
      const bins = new Float32Array(analyser.frequencyBinCount);
      let frames = 0;
      el.pause();
      el.currentTime = 0;
      await el.play();
      const end = performance.now() + maxMs;
      await new Promise((r) => setTimeout(r, 200));
      while (!el.ended && performance.now() < end) {
        analyser.getFloatFrequencyData(bins);
        for (let i = 0; i < bins.length; i++) sum[i] = (sum[i] ?? 0) + Math.max(bins[i] ?? -200, -200);
        frames++;
        await new Promise((r) => setTimeout(r, 50));
      }
      let best = 1;
      for (let i = 2; i < sum.length; i++) if ((sum[i] ?? -Infinity) > (sum[best] ?? -Infinity)) best = i;
      const db = (sum[best] ?? -200) / Math.max(frames, 1);
      const hz = (best * ctx.sampleRate) / analyser.fftSize;
      await ctx.close();
      if (!el.ended) throw new Error(`the recording did not play to its end within ${maxMs} ms`);
      return { hz: db < floorDb || frames === 0 ? undefined : hz, db };
    },
    { maxMs, floorDb },
  );
}
