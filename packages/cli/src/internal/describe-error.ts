// Turns a thrown error into the one line `sotto: <message>` and an exit status. Expected errors —
// the typed errors of the packages the command uses (ClientError, ServerError, StoreError,
// ProtocolError, CliError) — become a sentence that says what to do; anything else is a bug, shown
// as one line too (its stack only with SOTTO_DEBUG=1). Errors are recognised by name and string
// code rather than `instanceof`, so this module loads none of those packages (a usage error or
// `--help` starts in milliseconds) and still works across duplicated module instances.
import { oneLine } from '../output.ts';

/** What the error is about, for a message that names it. */
export interface ErrorContext {
  /** The keystore directory. */
  readonly home?: string;
  /** The server URL, when known. */
  readonly server?: string;
  /** The contact the command was about. */
  readonly contact?: string;
  /** The command, where the same code means different things (ERR_NOT_FOUND). */
  readonly command?: string;
}

export interface DescribedError {
  readonly message: string;
  /** 2 for a usage error, 1 for everything else. */
  readonly exitCode: 1 | 2;
  /** False for a bug: main may print the stack when asked to. */
  readonly expected: boolean;
}

const EXPECTED_NAMES = new Set(['CliError', 'ClientError', 'ServerError', 'StoreError', 'ProtocolError']);

interface CodedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly cause?: unknown;
  /** ClientError's ERR_TRUST_CHANGED detail: whether the changed contact had been verified. */
  readonly wasVerified?: boolean;
  /** ClientError's detail when a send gave up but its message stays in the outbox. */
  readonly queuedId?: string;
}

function coded(e: unknown): CodedError | undefined {
  if (!(e instanceof Error) || !EXPECTED_NAMES.has(e.name)) return undefined;
  const code: unknown = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const wasVerified: unknown = (e as { wasVerified?: unknown }).wasVerified;
  const queuedId: unknown = (e as { queuedId?: unknown }).queuedId;
  return {
    name: e.name,
    code,
    message: e.message,
    cause: e.cause,
    ...(typeof wasVerified === 'boolean' ? { wasVerified } : {}),
    ...(typeof queuedId === 'string' ? { queuedId } : {}),
  };
}

function withoutQueued(e: CodedError): CodedError {
  return { name: e.name, code: e.code, message: e.message, cause: e.cause, ...(e.wasVerified === undefined ? {} : { wasVerified: e.wasVerified }) };
}

/** The message without the "ERR_X: " prefix the SDK's errors carry. */
function detail(e: CodedError): string {
  return e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
}

function errnoOf(cause: unknown): string | undefined {
  const code: unknown = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeError(e: unknown, ctx: ErrorContext = {}): DescribedError {
  const c = coded(e);
  if (c === undefined) {
    const text = e instanceof Error ? e.message : String(e);
    return { message: `unexpected error (a bug; run with SOTTO_DEBUG=1 for details): ${oneLine(text)}`, exitCode: 1, expected: false };
  }
  if (c.name === 'CliError') return { message: c.message, exitCode: c.code === 'ERR_CLI_USAGE' ? 2 : 1, expected: true };
  return { message: friendly(c, ctx), exitCode: 1, expected: true };
}

function friendly(e: CodedError, ctx: ErrorContext): string {
  const home = ctx.home ?? 'the home directory';
  const who = ctx.contact ?? 'the contact';
  if (e.queuedId !== undefined) {
    // The SDK kept the sealed message in its outbox: the next command delivers it. Sending the text
    // again would make a second copy with another id.
    return `the message is queued (id ${e.queuedId}) and will be delivered by your next 'sotto send' or 'sotto receive'; do not send it again. Cause: ${friendly(withoutQueued(e), ctx)}`;
  }
  switch (e.code) {
    case 'ERR_KEYSTORE_WRONG_PASSPHRASE':
      return `wrong passphrase for the keystore in ${home}`;
    case 'ERR_KEYSTORE_NOT_FOUND':
      return `no account in ${home}: register one with 'sotto register <username>', or pass --home`;
    case 'ERR_KEYSTORE_EXISTS':
      return `there is already an account in ${home}; pass another --home to register a second one`;
    case 'ERR_KEYSTORE_CORRUPT':
      return `the keystore in ${home} is damaged and was left as it is: ${detail(e)}`;
    case 'ERR_KEYSTORE_VERSION':
      return `the keystore in ${home} was written by another version of Sotto: ${detail(e)}`;
    case 'ERR_KEYSTORE_IO': {
      const errno = errnoOf(e.cause);
      return `cannot read or write the keystore in ${home}${errno === undefined ? '' : ` (${errno})`}: ${detail(e)}`;
    }
    case 'ERR_USERNAME_TAKEN':
      return `that username is already taken${ctx.server === undefined ? '' : ` on ${ctx.server}`}; choose another`;
    case 'ERR_USERNAME_INVALID':
      return 'a username has 3 to 32 characters from a-z, 0-9 and _, and starts with a letter';
    case 'ERR_NOT_FOUND':
      // verify and trust work on the local trust store; the others asked the server.
      return ctx.command === 'verify' || ctx.command === 'trust' ? `${who} is not one of your contacts ('sotto contacts' lists them)` : `${who} has no account on the server`;
    case 'ERR_TRUST_STATE':
      return `there is no new key to accept: ${who}'s key has not changed`;
    case 'ERR_MESSAGE_REJECTED':
      return `a message could not be opened and was dropped: ${detail(e)}`;
    case 'ERR_SERVER':
      return `the server refused: ${detail(e)}`;
    case 'ERR_NETWORK':
      return `cannot reach the server${ctx.server === undefined ? '' : ` at ${ctx.server}`}: ${detail(e)}`;
    case 'ERR_TRUST_CHANGED':
      return trustChanged(who, e.wasVerified);
    case 'ERR_SAFETY_NUMBER_MISMATCH':
      return (
        `the safety number does not match ${who}'s current key; nothing changed. Check that you compared ` +
        `with ${who}'s own screen: if the numbers really differ, the key you hold may not be ${who}'s`
      );
    case 'ERR_ATTACHMENT_CORRUPT':
      return 'the file is damaged or was tampered with on the server; nothing was saved';
    case 'ERR_ATTACHMENT_TOO_LARGE':
      return `the file is too large to send: ${detail(e)}`;
    default:
      return oneLine(e.message);
  }
}

/** docs/protocol/10 §10.4: nothing goes to a contact whose key changed, verified before or not, until
 *  the user verifies the new key or accepts it. The advice depends on which it was. */
function trustChanged(who: string, wasVerified: boolean | undefined): string {
  const verify = `'sotto safety-number ${who}', then 'sotto verify ${who} <digits>'`;
  const accept = `'sotto trust ${who} --accept-new-key'`;
  if (wasVerified === true) {
    return `not sent: ${who}'s identity key has CHANGED since you verified it, so someone may be intercepting. Verify the new key (${verify}), or accept it without verifying (${accept})`;
  }
  if (wasVerified === false) {
    return `not sent: ${who}'s identity key has CHANGED since you first saw it (a new device, or someone intercepting). Compare safety numbers with ${who} (${verify}), or accept the new key (${accept})`;
  }
  return `not sent: ${who}'s identity key has CHANGED (a new device, or someone intercepting). Compare safety numbers with ${who} (${verify}), or accept the new key (${accept})`;
}
