// Puts received audio on a timeline for --record: WeriftCallMedia hands over each decoded frame with
// its position (samples since the first received frame, from the RTP timestamp); a gap left by lost
// packets is filled with silence, so the recording keeps the call's timing, and audio that overlaps
// what was already written (a late packet) is cut. A jump larger than MAX_RECORD_GAP_SAMPLES is a
// pause in the sender's stream (not loss) and is filled only up to that bound.
import { MAX_RECORD_GAP_SAMPLES } from '../limits.ts';

export class AudioTimeline {
  readonly #write: (samples: Int16Array) => void;
  /** Samples written so far: the position the next sample lands at. */
  #end = 0;
  #offset = 0;

  constructor(write: (samples: Int16Array) => void) {
    this.#write = write;
  }

  /** Samples written so far (silence included). */
  get length(): number {
    return this.#end;
  }

  put(samples: Int16Array, at: number): void {
    let pos = at + this.#offset;
    if (pos > this.#end) {
      const gap = pos - this.#end;
      const fill = Math.min(gap, MAX_RECORD_GAP_SAMPLES);
      // Later positions shift back by what was not filled, so they stay contiguous.
      this.#offset -= gap - fill;
      pos -= gap - fill;
      if (fill > 0) {
        this.#write(new Int16Array(fill));
        this.#end += fill;
      }
    }
    const skip = this.#end - pos;
    if (skip >= samples.length) return;
    const part = skip > 0 ? samples.subarray(skip) : samples;
    this.#write(part);
    this.#end += part.length;
  }
}
