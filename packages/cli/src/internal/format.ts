// Everything the sotto command shows, as pure functions from data to text. output.ts writes the
// result; tests check it here without a terminal.
//
// Text that comes from other people (messages, file names) or from a server (error details) is
// untrusted: before it reaches a terminal, control characters are made visible (an ESC could move
// the cursor, rewrite earlier lines, or change the window title) and bidirectional overrides are
// neutralised (they can disguise "txt.exe" as "exe.txt").
import { renderUnicodeCompact } from 'uqr';

/** The shapes shown here, structurally those of @sotto/client (docs/protocol/10 §10.4): the
 *  formatter needs no SDK at run time, so `--help` and usage errors stay fast. */
export type TrustState = 'unverified' | 'verified' | 'changed';
export interface ContactView {
  readonly username: string;
  readonly state: TrustState;
  readonly method?: string;
  readonly wasVerified?: boolean;
  readonly since: number;
}
export interface FileView {
  readonly name: string;
  readonly size: number;
  readonly mime: string;
}
export type MessageView =
  | { readonly kind: 'text'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly text: string; readonly senderState: TrustState }
  | { readonly kind: 'file'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly file: FileView; readonly senderState: TrustState }
  | { readonly kind: 'delivered'; readonly from: string; readonly ids: readonly string[]; readonly sentAt: number; readonly receivedAt: number }
  | { readonly kind: 'voicemail'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly call: string; readonly file: FileView; readonly durationMs: number; readonly senderState: TrustState }
  | { readonly kind: 'missed-call'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly call: string; readonly senderState: TrustState };

/** Where a received file went: its path, or why it was not saved. */
export type SaveOutcome = { readonly savedAs: string } | { readonly error: string };

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Makes untrusted text safe to print: C0/C1 controls (except tab and newline) become visible `\xNN`
 *  escapes, bidi controls become `<U+XXXX>`, CR is dropped, and each newline is followed by `indent`
 *  so a multi-line message stays visibly one message. */
export function terminalSafe(text: string, indent = '  '): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`)
    .replace(/\n/g, `\n${indent}`);
}

/** 2025-01-31 14:05 in local time. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** 1234567 → "1.2 MB"; exact bytes below 1 kB. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u] ?? 'GB'}`;
}

const METHOD_LABELS: Readonly<Record<string, string>> = {
  'safety-number': 'safety number',
  qr: 'QR code',
  sas: 'words compared in a call',
};

/** "unverified", "verified (safety number)", "CHANGED". */
export function trustLabel(c: Pick<ContactView, 'state' | 'method'>): string {
  switch (c.state) {
    case 'unverified':
      return 'unverified';
    case 'verified':
      return c.method === undefined ? 'verified' : `verified (${METHOD_LABELS[c.method] ?? c.method})`;
    case 'changed':
      return 'CHANGED';
  }
}

/** Shown next to a sender: nothing for a verified contact, a reminder otherwise (DESIGN.md "the UI
 *  always shows" the trust state; only `verified` goes without saying). */
function senderTag(state: TrustState): string {
  switch (state) {
    case 'verified':
      return '';
    case 'unverified':
      return ' (unverified)';
    case 'changed':
      return ' (KEY CHANGED: not the key you trusted)';
  }
}

/** ", saved as PATH" / ", NOT saved: WHY" / "". */
function savedText(saved: SaveOutcome | undefined): string {
  if (saved === undefined) return '';
  return 'savedAs' in saved ? `, saved as ${terminalSafe(saved.savedAs)}` : `, NOT saved: ${terminalSafe(saved.error)}`;
}

/** 65000 → "1:05". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One readable line (or a few, for a multi-line text) per received message. */
export function formatMessage(m: MessageView, saved?: SaveOutcome): string {
  const when = formatTime(m.sentAt);
  switch (m.kind) {
    case 'text':
      return `${when}  ${m.from}${senderTag(m.senderState)}: ${terminalSafe(m.text)}`;
    case 'file':
      return `${when}  ${m.from}${senderTag(m.senderState)} sent a file: ${terminalSafe(m.file.name)} (${formatSize(m.file.size)})${savedText(saved)}`;
    case 'voicemail':
      return `${when}  ${m.from}${senderTag(m.senderState)} left a voicemail (${formatDuration(m.durationMs)})${savedText(saved)}`;
    case 'missed-call':
      return `${when}  missed call from ${m.from}${senderTag(m.senderState)}`;
    case 'delivered':
      return `${when}  ${m.from} received ${m.ids.length === 1 ? 'your message' : `${m.ids.length} of your messages`}`;
  }
}

/** The object `receive --json` prints for a message, one per line. */
export function messageJson(m: MessageView, saved?: SaveOutcome): Record<string, unknown> {
  switch (m.kind) {
    case 'text':
      return { kind: 'text', id: m.id, from: m.from, sentAt: m.sentAt, receivedAt: m.receivedAt, senderState: m.senderState, text: m.text };
    case 'file':
      return {
        kind: 'file',
        id: m.id,
        from: m.from,
        sentAt: m.sentAt,
        receivedAt: m.receivedAt,
        senderState: m.senderState,
        file: fileJson(m.file, saved),
      };
    case 'delivered':
      return { kind: 'delivered', from: m.from, ids: [...m.ids], sentAt: m.sentAt, receivedAt: m.receivedAt };
    case 'voicemail':
      return {
        kind: 'voicemail',
        id: m.id,
        from: m.from,
        sentAt: m.sentAt,
        receivedAt: m.receivedAt,
        senderState: m.senderState,
        call: m.call,
        durationMs: m.durationMs,
        file: fileJson(m.file, saved),
      };
    case 'missed-call':
      return { kind: 'missed-call', id: m.id, from: m.from, sentAt: m.sentAt, receivedAt: m.receivedAt, senderState: m.senderState, call: m.call };
  }
}

function fileJson(file: FileView, saved: SaveOutcome | undefined): Record<string, unknown> {
  return {
    name: file.name,
    size: file.size,
    mime: file.mime,
    savedAs: saved !== undefined && 'savedAs' in saved ? saved.savedAs : null,
    ...(saved !== undefined && 'error' in saved ? { error: saved.error } : {}),
  };
}

/** The warning shown once per `receive` for each sender whose key changed (docs/protocol/10 §10.4:
 *  "a message arriving from a changed key is kept but shown with the change warning"; sends to that
 *  contact are refused until the user verifies or accepts the new key). */
export function changedSenderWarning(username: string): string {
  return `warning: ${username}'s identity key has CHANGED; messages marked KEY CHANGED come from a key you have not trusted, and nothing is sent to ${username} until you verify or accept it. Check with 'sotto safety-number ${username}'`;
}

/** The contact list: one aligned line per contact, and a loud note under each changed one. */
export function formatContacts(contacts: readonly ContactView[]): string[] {
  if (contacts.length === 0) return ['no contacts yet: send a message, or receive one'];
  const width = Math.max(...contacts.map((c) => c.username.length));
  const stateWidth = Math.max(...contacts.map((c) => trustLabel(c).length));
  const lines: string[] = [];
  for (const c of contacts) {
    lines.push(`${c.username.padEnd(width)}  ${trustLabel(c).padEnd(stateWidth)}  since ${formatTime(c.since)}`.trimEnd());
    if (c.state === 'changed') lines.push(`  ! ${changedNote(c)}`);
  }
  return lines;
}

function changedNote(c: ContactView): string {
  const u = c.username;
  const fix = `compare safety numbers ('sotto safety-number ${u}', then 'sotto verify ${u} <digits>') or accept it ('sotto trust ${u} --accept-new-key')`;
  // docs/protocol/10 §10.4: refused either way; only the reading of the change differs.
  return c.wasVerified === true
    ? `the server now shows a DIFFERENT identity key for ${u}, whom you had verified: someone may be intercepting. Sending to ${u} is refused until you ${fix}`
    : `the server now shows a DIFFERENT identity key for ${u} than when you first saw it: this may be a new device, or someone intercepting. Sending to ${u} is refused until you ${fix}`;
}

/** The object `contacts --json` prints for each contact (inside one array). */
export function contactJson(c: ContactView): Record<string, unknown> {
  return {
    username: c.username,
    state: c.state,
    ...(c.method !== undefined ? { method: c.method } : {}),
    ...(c.wasVerified !== undefined ? { wasVerified: c.wasVerified } : {}),
    since: c.since,
  };
}

/** 60 digits as Signal shows them (docs/protocol/07 §7.3): 12 groups of 5, in 3 rows of 4. */
export function safetyNumberRows(digits: string): string[] {
  if (!/^[0-9]{60}$/.test(digits)) throw new RangeError(`expected 60 digits, got ${digits.length} characters`);
  const groups = digits.match(/[0-9]{5}/g) ?? [];
  return [0, 4, 8].map((i) => groups.slice(i, i + 4).join(' '));
}

/** The scannable payload (docs/protocol/07 §7.4) as a QR code drawn with half blocks, two modules
 *  per character cell: light modules are drawn, so it reads correctly on a dark terminal; the border
 *  is the quiet zone a scanner needs. Error correction M: a screen photographed at an angle loses
 *  some modules. */
export function renderQrCode(payload: Uint8Array): string {
  return renderUnicodeCompact(Array.from(payload), { ecc: 'M', border: 2 });
}

/** The whole `safety-number` screen. */
export function formatSafetyNumber(contact: ContactView, digits: string, payload: Uint8Array): string[] {
  const u = contact.username;
  const lines = [`Safety number of you and ${u} (${trustLabel(contact)}):`, ''];
  for (const row of safetyNumberRows(digits)) lines.push(`    ${row}`);
  lines.push('', renderQrCode(payload), '');
  if (contact.state === 'changed') {
    lines.push(`${u}'s key CHANGED: this number is for the NEW key the server shows now. Verify it with ${u} before you trust it.`);
  }
  lines.push(
    `Compare these 60 digits with ${u}'s screen, in person or on a call (or let ${u} scan the code).`,
    `If they are the same: sotto verify ${u} <the 60 digits>`,
  );
  return lines;
}
