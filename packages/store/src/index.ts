// @sotto/store — the public surface (STYLE.md §7). Everything not exported here is internal.
export { StoreError, isStoreError, type StoreErrorCode } from './errors.ts';
export * as limits from './limits.ts';
export type {
  Account,
  AccountStore,
  Attachment,
  AttachmentStore,
  BundleParts,
  Device,
  DeviceAddress,
  EnqueueResult,
  FetchOptions,
  MessageQueue,
  NewAccount,
  NewAttachment,
  NewMessage,
  OneTimePrekeyCounts,
  OneTimePrekeyKind,
  PrekeyBatch,
  PrekeyRecord,
  PrekeyStore,
  QueuedMessage,
  Store,
} from './store.ts';
export { createMemoryStore } from './memory.ts';
export { openSqliteStore } from './sqlite-worker.ts';
export { openPostgresStore, type PostgresConfig } from './postgres.ts';
