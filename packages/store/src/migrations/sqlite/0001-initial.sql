-- Sotto store schema, version 1 (packages/store/README.md explains every table).
-- STRICT tables: SQLite checks every column's type, as PostgreSQL will.
-- Nothing here names the sender of a message or links two accounts.

-- One row per account: the canonical username and the identity key it registered with.
CREATE TABLE accounts (
  username     TEXT    NOT NULL PRIMARY KEY,
  identity_key BLOB    NOT NULL CHECK (length(identity_key) = 32),
  created_at   INTEGER NOT NULL
) STRICT;

-- One row per device of an account.
CREATE TABLE devices (
  username     TEXT    NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  device_id    INTEGER NOT NULL CHECK (device_id BETWEEN 0 AND 4294967295),
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (username, device_id)
) STRICT;

-- The current signed prekey of each device (replaced on rotation), as its wire encoding.
CREATE TABLE signed_prekeys (
  username  TEXT    NOT NULL,
  device_id INTEGER NOT NULL,
  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    BLOB    NOT NULL,
  PRIMARY KEY (username, device_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
) STRICT;

-- The current last-resort ML-KEM prekey of each device (replaced on rotation), as its wire encoding.
CREATE TABLE last_resort_kem_prekeys (
  username  TEXT    NOT NULL,
  device_id INTEGER NOT NULL,
  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    BLOB    NOT NULL,
  PRIMARY KEY (username, device_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
) STRICT;

-- One-time prekeys not yet handed out, of both kinds. seq is the upload order (oldest is handed out
-- first); a row is deleted in the same transaction that hands it out.
CREATE TABLE one_time_prekeys (
  seq       INTEGER NOT NULL PRIMARY KEY,
  username  TEXT    NOT NULL,
  device_id INTEGER NOT NULL,
  kind      TEXT    NOT NULL CHECK (kind IN ('x25519', 'kem')),
  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  record    BLOB    NOT NULL,
  UNIQUE (username, device_id, kind, prekey_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX one_time_prekeys_oldest ON one_time_prekeys (username, device_id, kind, seq);

-- Each device's queue of sealed envelopes awaiting acknowledgement. Only the recipient device is
-- named: a sealed envelope carries its sender inside the ciphertext. AUTOINCREMENT so that a seq is
-- never reused after its row is deleted: a client's fetch cursor must never skip a new message.
CREATE TABLE messages (
  seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  username    TEXT    NOT NULL,
  device_id   INTEGER NOT NULL,
  message_id  BLOB    NOT NULL CHECK (length(message_id) = 16),
  envelope    BLOB    NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  UNIQUE (username, device_id, message_id),
  FOREIGN KEY (username, device_id) REFERENCES devices (username, device_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX messages_queue ON messages (username, device_id, seq);
CREATE INDEX messages_expiry ON messages (expires_at);

-- Encrypted attachments under random ids; no column names who uploaded or who may download.
CREATE TABLE attachments (
  id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
  bytes      BLOB    NOT NULL,
  size       INTEGER NOT NULL CHECK (size = length(bytes)),
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_expiry ON attachments (expires_at);
