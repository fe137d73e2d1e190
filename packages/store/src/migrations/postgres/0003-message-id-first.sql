-- Sotto store schema for PostgreSQL, version 3: a message's unique key is ordered
-- (message_id, username, device_id) instead of (username, device_id, message_id). Same key, same
-- idempotency (ON CONFLICT names the columns as a set); what changes is which index a lookup by
-- message id can use. Acks and repeated sends look a message up by its id, and the queue index
-- messages_queue (username, device_id, seq) also matches their (username, device_id) part. Without
-- statistics — a new or never-analysed table, as after a start — the planner rated the two alike and
-- took messages_queue, filtering every message of the device per id looked up: measured at 130 µs of
-- database CPU per delivered message with two busy devices, against 35 µs through the unique index.
-- With message_id first, and those statements comparing (username, device_id) with IS NOT DISTINCT
-- FROM (not an index condition), the unique index is the only index such a lookup can use.
-- Run by internal/pg-migrate.ts inside its transaction: no BEGIN or COMMIT here.
ALTER TABLE messages DROP CONSTRAINT messages_username_device_id_message_id_key;
ALTER TABLE messages ADD CONSTRAINT messages_message_id_key UNIQUE (message_id, username, device_id);
