-- Sotto store schema for PostgreSQL, version 1: the same tables, columns and constraints as
-- src/migrations/sqlite/0001-initial.sql (packages/store/README.md explains every table).
-- Integers are bigint (u32 ids and millisecond times both fit), byte strings bytea, seqs identity
-- columns (a sequence never hands out a value twice, not even after its row was deleted).
-- Nothing here names the sender of a message or links two accounts.
-- Run by internal/pg-migrate.ts inside its transaction: no BEGIN or COMMIT here.

-- One row per account: the canonical username and the identity key it registered with.
CREATE TABLE accounts (
  username     text   NOT NULL PRIMARY KEY,
  identity_key bytea  NOT NULL CHECK (octet_length(identity_key) = 32),
  created_at   bigint NOT NULL CHECK (created_at >= 0)
);

-- One row per device of an account. enqueue locks a device's row (FOR NO KEY UPDATE) before it
-- takes a seq, so that the messages of one queue commit in seq order.
CREATE TABLE devices (
  username     text   NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  device_id    bigint NOT NULL CHECK (device_id BETWEEN 0 AND 4294967295),
  created_at   bigint NOT NULL CHECK (created_at >= 0),
  last_seen_at bigint NOT NULL CHECK (last_seen_at >= 0),
  PRIMARY KEY (username, device_id)
);

-- The current signed prekey of each device (replaced on rotation), as its wire encoding.
CREATE TABLE signed_prekeys (
  username  text   NOT NULL,
  device_id bigint NOT NULL,
  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    bytea  NOT NULL CHECK (octet_length(record) >= 1),
  PRIMARY KEY (username, device_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
);

-- The current last-resort ML-KEM prekey of each device (replaced on rotation), as its wire encoding.
CREATE TABLE last_resort_kem_prekeys (
  username  text   NOT NULL,
  device_id bigint NOT NULL,
  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    bytea  NOT NULL CHECK (octet_length(record) >= 1),
  PRIMARY KEY (username, device_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
);

-- One-time prekeys not yet handed out, of both kinds. seq is the upload order (oldest is handed out
-- first); a row is deleted in the same transaction that hands it out (FOR UPDATE SKIP LOCKED, so two
-- concurrent bundle fetches never take the same row).
CREATE TABLE one_time_prekeys (
  seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username  text   NOT NULL,
  device_id bigint NOT NULL,
  kind      text   NOT NULL CHECK (kind IN ('x25519', 'kem')),
  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    bytea  NOT NULL CHECK (octet_length(record) >= 1),
  UNIQUE (username, device_id, kind, prekey_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
);
CREATE INDEX one_time_prekeys_oldest ON one_time_prekeys (username, device_id, kind, seq);

-- Each device's queue of sealed envelopes awaiting acknowledgement. Only the recipient device is
-- named: a sealed envelope carries its sender inside the ciphertext. seq comes from a sequence, so
-- it is never reused after its row is deleted: a client's fetch cursor must never skip a new message.
CREATE TABLE messages (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username    text   NOT NULL,
  device_id   bigint NOT NULL,
  message_id  bytea  NOT NULL CHECK (octet_length(message_id) = 16),
  envelope    bytea  NOT NULL,
  received_at bigint NOT NULL CHECK (received_at >= 0),
  expires_at  bigint NOT NULL CHECK (expires_at >= received_at),
  UNIQUE (username, device_id, message_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
);
CREATE INDEX messages_queue ON messages (username, device_id, seq);
CREATE INDEX messages_expiry ON messages (expires_at);

-- Encrypted attachments under random ids; no column names who uploaded or who may download.
CREATE TABLE attachments (
  id         bytea  NOT NULL PRIMARY KEY CHECK (octet_length(id) = 16),
  bytes      bytea  NOT NULL,
  size       bigint NOT NULL CHECK (size = octet_length(bytes)),
  expires_at bigint NOT NULL CHECK (expires_at >= 0)
);
CREATE INDEX attachments_expiry ON attachments (expires_at);
