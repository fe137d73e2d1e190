// Every error the UI can meet, as one plain sentence that says what happened and what to do. The SDK's
// errors are recognised by name and string code (not `instanceof`, so this stays a pure module that
// Node tests load without the SDK), like the CLI's src/internal/describe-error.ts; anything unknown is
// a bug and says so without showing internals.

/** What the user was doing, where one code means different things. */
export type Action = 'create' | 'unlock' | 'send' | 'send-file' | 'new-conversation' | 'verify' | 'scan' | 'download' | 'accept' | 'receive';

export interface ErrorContext {
  readonly action: Action;
  /** The contact it was about. */
  readonly contact?: string;
}

interface Coded {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly wasVerified?: boolean;
  readonly status?: number;
}

const KNOWN = new Set(['ClientError', 'WebError', 'ProtocolError']);

function coded(e: unknown): Coded | undefined {
  if (!(e instanceof Error) || !KNOWN.has(e.name)) return undefined;
  const x = e as Error & { code?: unknown; wasVerified?: unknown; status?: unknown };
  if (typeof x.code !== 'string') return undefined;
  return {
    name: e.name,
    code: x.code,
    message: e.message,
    ...(typeof x.wasVerified === 'boolean' ? { wasVerified: x.wasVerified } : {}),
    ...(typeof x.status === 'number' ? { status: x.status } : {}),
  };
}

/** One sentence for the user. */
export function describeError(e: unknown, ctx: ErrorContext): string {
  const c = coded(e);
  const who = ctx.contact ?? 'this contact';
  if (c === undefined) return 'Something went wrong inside Sotto (a bug). Reload the page and try again.';
  switch (c.code) {
    // --- the web client's own ---
    case 'ERR_WEB_PASSPHRASE_MISMATCH':
      return 'The two passphrases are not the same. Type the same passphrase in both fields.';
    case 'ERR_WEB_UNSUPPORTED':
      return 'This browser lacks something Sotto needs (IndexedDB or WebCrypto). Use a current Chrome, Firefox or Safari, outside private mode.';
    case 'ERR_WEB_CAMERA':
      return 'Sotto cannot use the camera: allow camera access for this page, or compare the numbers instead.';
    case 'ERR_WEB_HISTORY':
      return 'The message history on this device could not be read; new messages are still shown and kept.';
    case 'ERR_WEB_FILE':
      return `That file cannot be sent: ${c.message}.`;
    // --- keystore ---
    case 'ERR_KEYSTORE_WRONG_PASSPHRASE':
      return 'That passphrase is not right. Try again (capital letters count).';
    case 'ERR_KEYSTORE_NOT_FOUND':
      return 'There is no account in this browser yet. Create one.';
    case 'ERR_KEYSTORE_EXISTS':
      return 'This browser already holds a Sotto account. Unlock it instead.';
    case 'ERR_KEYSTORE_ARGUMENT':
      return ctx.action === 'create' || ctx.action === 'unlock' ? 'Enter a passphrase (at most 1024 bytes).' : 'Sotto could not store that on this device.';
    case 'ERR_KEYSTORE_CORRUPT':
    case 'ERR_KEYSTORE_VERSION':
    case 'ERR_STATE_CORRUPT':
      return 'The account stored in this browser is damaged or from another version of Sotto, and cannot be opened.';
    case 'ERR_KEYSTORE_IO':
      return 'This browser refused to store Sotto’s data (storage full, or private mode). Free some space or leave private mode.';
    case 'ERR_KEYSTORE_DEVICE_KEY_MISSING':
      return 'This browser has lost the device key that protects your account (its site data was partly cleared). The account cannot be opened here any more: remove it from this browser and create a new one.';
    case 'ERR_KEYSTORE_IN_USE':
      return 'Sotto is already open in another tab or window of this browser. Use that one, or close it and try again.';
    case 'ERR_KEYSTORE_UNSUPPORTED':
      return 'This browser cannot keep Sotto’s keys safely (no IndexedDB or WebCrypto, as in some private windows). Use a normal window of a current browser.';
    case 'ERR_KEYSTORE_CLOSED':
    case 'ERR_CLIENT_CLOSED':
      return 'Sotto is locked. Unlock it again to continue.';
    // --- accounts and the server ---
    case 'ERR_USERNAME_TAKEN':
      return 'That username is already taken on this server. Choose another.';
    case 'ERR_USERNAME_INVALID':
      return 'A username has 3 to 32 characters (a–z, 0–9 and _) and starts with a letter.';
    case 'ERR_NOT_FOUND':
      if (ctx.action === 'download') return 'The file is no longer on the server (files are kept for a limited time). Ask for it again.';
      if (ctx.action === 'verify' || ctx.action === 'accept') return `${who} is not one of your contacts yet.`;
      return `There is no account named ${who} on this server. Check the spelling.`;
    case 'ERR_NETWORK':
      return ctx.action === 'send' || ctx.action === 'send-file'
        ? 'Cannot reach the server, so the message was not confirmed. Check your connection and send it again.'
        : 'Cannot reach the server. Check your connection; Sotto keeps trying.';
    case 'ERR_SERVER':
      if (c.status === 429) return 'The server is busy (too many requests). Wait a moment and try again.';
      if (c.status === 413) return 'The server refused it as too large.';
      return 'The server refused the request. Try again later.';
    case 'ERR_BAD_RESPONSE':
      return 'The server sent an answer Sotto cannot use. Try again later.';
    case 'ERR_OUTBOX_FULL':
      return 'Too many messages are waiting to be sent. Wait until the connection is back.';
    // --- trust ---
    case 'ERR_TRUST_CHANGED':
      return c.wasVerified === true
        ? `${who}'s key changed since you verified it. Verify the new key or accept it first.`
        : `${who}'s key changed. Compare safety numbers or accept the new key first.`;
    case 'ERR_TRUST_STATE':
      return `${who}'s key has not changed; there is nothing to accept.`;
    case 'ERR_SAFETY_NUMBER_MISMATCH':
      return ctx.action === 'scan'
        ? `The scanned code does not match. Make sure it is ${who}'s code for a conversation with you. If it is, the key you hold may not be ${who}'s: do not verify.`
        : `The numbers do not match ${who}'s current key; nothing changed. Check that you compared with ${who}'s own screen. If they really differ, the key you hold may not be ${who}'s.`;
    // --- calls (docs/protocol/11) ---
    case 'ERR_CALL_BUSY':
      return 'You are already in a call. End it first.';
    case 'ERR_CALL_STATE':
      return ctx.action === 'verify'
        ? `The words could not be confirmed: the call has ended, or ${who}'s key changed during it. Nothing was changed.`
        : 'That call was already answered, declined or ended.';
    case 'ERR_CALL_FAILED':
      return `The call with ${who} could not be set up (the connection or its encryption keys failed). Try again.`;
    // --- content and files ---
    case 'ERR_ARGUMENT':
      return ctx.action === 'send-file' ? 'That file cannot be sent (its name or type is not allowed).' : 'That cannot be sent (empty or too long).';
    case 'ERR_ATTACHMENT_TOO_LARGE':
      return 'The file is too large to send (at most 32 MB).';
    case 'ERR_ATTACHMENT_CORRUPT':
      return 'The file is damaged or was tampered with on the server; it was not opened.';
    case 'ERR_MESSAGE_REJECTED':
    case 'ERR_CONTENT_INVALID':
      return 'A message could not be opened (damaged or forged) and was dropped.';
    default:
      return 'Something went wrong. Try again.';
  }
}
