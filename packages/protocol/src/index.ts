// @sotto/protocol — the public surface (STYLE.md §7). Everything not exported here is internal.
export { ProtocolError, isProtocolError, type ProtocolErrorCode } from './errors.ts';
export * as limits from './limits.ts';
export type { CryptoProvider, Rng, AeadAlgorithm, MlKemKeyPair, MlKemEncapsulation } from './crypto/provider.ts';
export { nobleProvider } from './crypto/noble.ts';
export { IdentityKeyPair, parseIdentityPublicKey, identityDhPublicKey, type IdentityPublicKey, type IdentityDhPublicKey } from './keys/identity.ts';
export { WIRE_VERSION } from './wire/version.ts';
