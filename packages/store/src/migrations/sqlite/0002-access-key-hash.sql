-- Sotto store schema, version 2: each account's access-key hash (docs/protocol/09 §9.7), so that a
-- sealed send can be authorised without naming its sender. Only SHA-256(accessKey) is stored: a dump
-- of the database does not let anyone send. Accounts from version 1 get 32 zero bytes, a hash no
-- access key has (finding a preimage of it is SHA-256 preimage resistance), so they receive only
-- bearer-authorised sends. SQLite cannot drop the default without rebuilding the table; the store
-- always writes the column explicitly.
ALTER TABLE accounts ADD COLUMN access_key_hash BLOB NOT NULL
  DEFAULT X'0000000000000000000000000000000000000000000000000000000000000000'
  CHECK (length(access_key_hash) = 32);
