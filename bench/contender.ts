// What each implementation under test provides to the harness (bench/protocol-bench.ts). Every operation does
// its untimed preparation itself and returns the seconds spent in the timed part only.
export interface SetupTimes {
  /** Seconds for `count` initiators: process (verify) a prekey bundle, start the session, encrypt the first message. */
  readonly initiator: number;
  /** Seconds for `count` responders: accept that prekey message (decapsulate, DHs, decrypt). */
  readonly responder: number;
}

export interface Contender {
  readonly name: string;
  /** Untimed: keys, stores, the established sessions used by the message benchmarks. */
  prepare(): Promise<void>;
  setups(count: number): Promise<SetupTimes>;
  /** Seconds for `count` messages from one side, all encrypted, then all decrypted in order (no DH ratchet step). */
  oneDirection(count: number): Promise<number>;
  /** Seconds for `count` messages alternating direction: each is encrypted, then decrypted; every message starts a new DH ratchet step. */
  pingPong(count: number): Promise<number>;
  /** Byte lengths of messages carrying `plaintextBytes`: ratchet messages over MESSAGE_SIZE_SAMPLE
   *  messages of an established session (half ping-pong, half one direction; libsignal's SPQR
   *  chunks make its sizes vary), and the first (prekey) message. */
  messageBytes(plaintextBytes: number): Promise<MessageSizes>;
}

/** The plaintext every benchmark message carries (100 bytes, as in the brief's overhead metric). */
export const PLAINTEXT_BYTES = 100;

export interface MessageSizes {
  /** Mean length of a ratchet message over the sample. */
  readonly ratchet: number;
  readonly ratchetMin: number;
  readonly ratchetMax: number;
  /** Length of the first (prekey) message of a session. */
  readonly prekey: number;
}

/** Messages sampled for MessageSizes.ratchet. */
export const MESSAGE_SIZE_SAMPLE = 40;

export function sizesOf(ratchet: readonly number[], prekey: number): MessageSizes {
  return {
    ratchet: ratchet.reduce((a, b) => a + b, 0) / ratchet.length,
    ratchetMin: Math.min(...ratchet),
    ratchetMax: Math.max(...ratchet),
    prekey,
  };
}
