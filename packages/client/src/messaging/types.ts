// The messages the SDK hands to applications (the @sotto/client facade, src/client.ts). Binary fields
// are base64url strings (docs/protocol/09 §9.1), so they print, serialize and compare as text.
import type { TrustState } from '../trust/trust-store.ts';

/** A sent message: its id (base64url of the 16 bytes, docs/protocol/10 §10.2), when it was sent, and
 *  whether the server had it already (a retry, docs/protocol/09 §9.7). */
export interface SentMessage {
  readonly id: string;
  readonly sentAt: number;
  readonly duplicate: boolean;
  /** The recipient's trust state when it was sent: `unverified` or `verified`, never `changed` (a send
   *  to a changed contact is refused, §10.4); the type stays TrustState for the UI's labels. */
  readonly recipientState: TrustState;
}

/** What a `file` message names (docs/protocol/10 §10.2–10.3); pass it to `downloadFile`. */
export interface FileRef {
  readonly attachment: string;
  readonly key: string;
  readonly digest: string;
  readonly size: number;
  readonly name: string;
  readonly mime: string;
}

/** A received message. `receivedAt` is when the server queued it (its clock, informational);
 *  `senderState` is the sender's trust state (`changed`: show the change warning, §10.4). */
export type ReceivedMessage =
  | { readonly kind: 'text'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly text: string; readonly senderState: TrustState }
  | { readonly kind: 'file'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly file: FileRef; readonly senderState: TrustState }
  | { readonly kind: 'delivered'; readonly from: string; readonly ids: readonly string[]; readonly sentAt: number; readonly receivedAt: number }
  /** docs/protocol/11 §11.6: a recorded message left after an unanswered call; `file` is an ordinary
   *  attachment (pass it to `downloadFile`), `call` the id (base64url) of the call it follows. */
  | { readonly kind: 'voicemail'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly call: string; readonly file: FileRef; readonly durationMs: number; readonly senderState: TrustState }
  /** docs/protocol/11 §11.6: a call offer that was not rung — older than CALL_OFFER_MAX_AGE_MS by this
   *  device's clock, from a `changed` contact (never rung, §10.4), or arriving while no
   *  `onIncomingCall` handler was registered. `id` is the offer's message id. */
  | { readonly kind: 'missed-call'; readonly id: string; readonly from: string; readonly sentAt: number; readonly receivedAt: number; readonly call: string; readonly senderState: TrustState };
