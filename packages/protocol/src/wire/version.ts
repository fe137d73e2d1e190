// docs/protocol.md §2.1: every encoded object starts with a version byte and a type byte.
// One fixed cipher suite per version and nothing negotiable: a decoder rejects every other version,
// so there is nothing to downgrade to.

/** Protocol version 1: the only one. Suite in docs/protocol.md §1.2. */
export const WIRE_VERSION = 0x01;

/** Type bytes, one registry so two messages can never share one (docs/protocol.md §2.2). */
export const WireType = {
  PrekeyBundle: 0x01,
  PrekeyMessage: 0x02,
  RatchetMessage: 0x03,
  SealedEnvelope: 0x04,
  SessionState: 0x05,
  SignedPrekey: 0x06,
  KemPrekey: 0x07,
  OneTimePrekey: 0x08,
  SenderCertificate: 0x09,
  SealedContent: 0x0a,
  RatchetState: 0x0b,
  PrekeyUpload: 0x0c,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];
