// @sotto/escrow — MIKEY-SAKKE implemented from its RFCs as the counter-example for the scorecard
// (issue "The escrow counter-example and the scorecard"). Its key management server can derive every
// user's private keys: that is the point being demonstrated. Nothing in Sotto uses it for protection.
export { EscrowError, type EscrowErrorCode } from './errors.ts';
export {
  eccsiKmsKeys,
  eccsiGenerateKms,
  eccsiProvision,
  eccsiKmsDeriveUserKey,
  eccsiValidateUserKey,
  eccsiSign,
  eccsiVerify,
  encodeEccsiSignature,
  decodeEccsiSignature,
  ECCSI_N,
  ECCSI_BITS,
  ECCSI_Q,
  ECCSI_POINT_BYTES,
  ECCSI_SIGNATURE_BYTES,
  type EccsiKmsKeys,
  type EccsiUserKey,
  type EccsiSignatureParts,
} from './eccsi.ts';
