// What every command gets from main.ts: where to write, the environment, the terminal for a
// passphrase prompt, and a place to record what an error message should name.
import type { Output } from '../output.ts';
import type { Env } from './args.ts';
import type { PromptInput } from './passphrase.ts';
import type { AnswerInput } from '../calls/sas-answer.ts';

export interface Context {
  readonly out: Output;
  readonly env: Env;
  /** stdin when it is a terminal, for the passphrase prompt; undefined otherwise. */
  readonly terminal: PromptInput | undefined;
  /** stdin, terminal or pipe, for the answer to the SAS question of `call` / `answer`
   *  (calls/sas-answer.ts); undefined when there is none to read (in-process tests). */
  readonly stdin?: AnswerInput;
  /** Facts learned while running, for the error message: the server actually used (the one stored
   *  in the keystore when --server was not given). */
  readonly learned: { server?: string };
}
