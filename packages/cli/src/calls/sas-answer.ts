// The SAS question of `sotto call` / `sotto answer` (docs/protocol/11 §11.4): once the SAS line is
// printed, stdin is read line by line for the user's answer — 'y'/'yes': the words match (the contact
// becomes verified by words compared in a call); 'n'/'no': they do not (the call ends `sas-mismatch`
// on both sides). On a terminal the question is asked on stderr ("Do the words match? [y/n] ");
// from a pipe the lines are read the same way without it, so scripts and tests can answer. Other
// lines are not an answer (the question is asked again, or the line noted); EOF or silence confirms
// nothing and the call goes on.
//
// An answer only counts once the words are shown: a line that arrives before the SAS line (typed
// ahead, or piped in at start) is dropped with a note. A script that pipes `yes` into every call
// would mark a man in the middle verified; that is also why there is no --sas-match option.
import { createInterface, type Interface } from 'node:readline';

export type SasAnswer = 'match' | 'mismatch';

/** 'y'/'yes' → match, 'n'/'no' → mismatch (any case, surrounding blanks ignored); else undefined. */
export function parseSasAnswer(line: string): SasAnswer | undefined {
  const a = line.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'match';
  if (a === 'n' || a === 'no') return 'mismatch';
  return undefined;
}

/** Where answers come from: stdin, and whether it is a terminal (then the question is asked). */
export interface AnswerInput {
  readonly stream: NodeJS.ReadableStream;
  readonly isTTY: boolean;
}

/** The question as shown on a terminal. */
export const SAS_QUESTION = 'Do the words match? [y/n] ';

export interface SasQuestionIo {
  /** A prompt on stderr without a newline. */
  prompt(text: string): void;
  /** One note line on stderr. */
  note(text: string): void;
}

/** Reads answers for one call; start() at once, ask() when the SAS line is out, close() at the end. */
export class SasQuestion {
  readonly #input: AnswerInput;
  readonly #io: SasQuestionIo;
  #rl: Interface | undefined;
  #onAnswer: ((a: SasAnswer) => void) | undefined;
  #done = false;

  constructor(input: AnswerInput, io: SasQuestionIo) {
    this.#input = input;
    this.#io = io;
  }

  /** Starts reading; lines before ask() are dropped (see the header). */
  start(): void {
    if (this.#rl !== undefined || this.#done) return;
    this.#rl = createInterface({ input: this.#input.stream, terminal: false });
    this.#rl.on('line', (line) => {
      this.#line(line);
    });
    this.#rl.on('close', () => {
      this.#rl = undefined;
    });
  }

  /** The SAS line is out: asks (on a terminal) and hands the first answer to `onAnswer`, once. */
  ask(onAnswer: (a: SasAnswer) => void): void {
    if (this.#done || this.#onAnswer !== undefined) return;
    this.#onAnswer = onAnswer;
    if (this.#input.isTTY) this.#io.prompt(SAS_QUESTION);
  }

  /** Whether an answer was given. */
  get answered(): boolean {
    return this.#done;
  }

  /** Stops reading stdin (so the process can exit). */
  close(): void {
    this.#onAnswer = undefined;
    const rl = this.#rl;
    this.#rl = undefined;
    rl?.close();
    this.#input.stream.pause();
  }

  #line(line: string): void {
    if (this.#done) return;
    const onAnswer = this.#onAnswer;
    if (onAnswer === undefined) {
      if (line.trim() !== '') this.#io.note('input before the words were shown is ignored: answer after the SAS line');
      return;
    }
    const a = parseSasAnswer(line);
    if (a === undefined) {
      if (this.#input.isTTY) this.#io.prompt(`Please answer y or n. ${SAS_QUESTION}`);
      else if (line.trim() !== '') this.#io.note("not an answer to 'do the words match?': expected y or n");
      return;
    }
    this.#done = true;
    this.close();
    onAnswer(a);
  }
}
