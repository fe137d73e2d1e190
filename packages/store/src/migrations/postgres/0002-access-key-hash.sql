-- Sotto store schema for PostgreSQL, version 2: the same change as
-- src/migrations/sqlite/0002-access-key-hash.sql — each account's SHA-256(accessKey)
-- (docs/protocol/09 §9.7). Accounts from version 1 get 32 zero bytes, a hash no access key has; the
-- default is dropped afterwards so that every new account must be given its hash.
-- Run by internal/pg-migrate.ts inside its transaction: no BEGIN or COMMIT here.
ALTER TABLE accounts ADD COLUMN access_key_hash bytea NOT NULL
  DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
  CHECK (octet_length(access_key_hash) = 32);
ALTER TABLE accounts ALTER COLUMN access_key_hash DROP DEFAULT;
