// What the UI says about trust (docs/protocol/10 §10.4; DESIGN.md "Trust": the state is always
// visible, a key change stops the conversation). Pure: the views put these strings on screen, tests
// check them in Node. The words match the CLI's (packages/cli/src/internal/format.ts) so a person
// using both sees one vocabulary.
import type { Contact, TrustState, VerificationMethod } from '@sotto/client';

/** The part of a Contact the UI needs (also what a conversation without a trust entry yet shows). */
export type TrustView = Pick<Contact, 'username' | 'state' | 'method' | 'wasVerified'>;

const METHOD_LABELS: Readonly<Record<VerificationMethod, string>> = {
  'safety-number': 'safety number',
  qr: 'QR code',
  sas: 'words compared in a call',
};

export function methodLabel(method: VerificationMethod | undefined): string {
  return method === undefined ? 'an earlier check' : METHOD_LABELS[method];
}

/** The badge's text: "Unverified", "Verified by QR code", "Key changed". */
export function badgeText(c: Pick<Contact, 'state' | 'method'>): string {
  switch (c.state) {
    case 'unverified':
      return 'Unverified';
    case 'verified':
      return `Verified by ${methodLabel(c.method)}`;
    case 'changed':
      return 'Key changed';
  }
}

/** What the badge means, for its tooltip and screen readers. */
export function badgeDescription(c: TrustView): string {
  const u = c.username;
  switch (c.state) {
    case 'unverified':
      return `You have not checked ${u}'s safety number yet. Messages are encrypted, but only a check proves they reach ${u} and nobody in between.`;
    case 'verified':
      return `You checked ${u}'s safety number (${methodLabel(c.method)}): messages reach ${u}'s device and nobody else's.`;
    case 'changed':
      return `${u}'s identity key changed. Nothing is sent to ${u} until you verify the new key or accept it.`;
  }
}

/** The CSS modifier of the badge (styles.css: .badge--unverified, ...). */
export function badgeClass(state: TrustState): string {
  return `badge badge--${state}`;
}

/** The interruption shown when a contact's key changed: a title, the plain explanation, and what the
 *  two choices do. The advice differs with whether the old key had been verified (§10.4). */
export function keyChangeExplanation(c: TrustView): { title: string; paragraphs: string[] } {
  const u = c.username;
  const what =
    c.wasVerified === true
      ? `You had verified ${u}, and now the server shows a different key for this name. Someone may be trying to read your messages, or ${u} may have reinstalled Sotto or set up a new device.`
      : `The server now shows a different key for ${u} than when you first talked. This happens when ${u} reinstalls Sotto or sets up a new device, but it can also mean someone is trying to read your messages.`;
  return {
    title: `${u}'s safety number has changed`,
    paragraphs: [
      what,
      `Nothing will be sent to ${u} until you decide. Messages already sent were encrypted to the old key.`,
      `Best: compare the new safety number with ${u} in person or on a call, or scan their QR code ("Verify now"). If you cannot do that now, "Accept the new key" lets you keep talking; ${u} is then shown as unverified.`,
    ],
  };
}

/** Groups of five digits (docs/protocol/07 §7.3), as the CLI prints them: 12 groups in 3 rows of 4. */
export function safetyNumberGroups(digits: string): string[] {
  if (!/^[0-9]{60}$/.test(digits)) throw new RangeError(`expected 60 digits, got ${digits.length} characters`);
  return digits.match(/[0-9]{5}/g) ?? [];
}
