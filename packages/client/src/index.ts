// Public API of @sotto/client (STYLE.md §7): an explicit export list, nothing else.
export { ClientError, isClientError } from './errors.ts';
export type { ClientErrorCode } from './errors.ts';
export type { Keystore } from './keystore/keystore.ts';
export {
  createSoftwareKeystore,
  openSoftwareKeystore,
  KEYSTORE_FILE,
  KEYSTORE_VERSION,
  PRODUCTION_ARGON2ID,
  MIN_ARGON2ID,
} from './keystore/software.ts';
export type { Argon2idParams, CreateSoftwareKeystoreOptions, OpenSoftwareKeystoreOptions } from './keystore/software.ts';
