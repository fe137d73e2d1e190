-- Sotto store schema for SQLite, version 3: nothing changes here. PostgreSQL's version 3
-- (src/migrations/postgres/0003-message-id-first.sql) reorders the unique key of messages so that
-- its planner, lacking statistics, cannot pick the queue index for a lookup by message id. SQLite's
-- planner needs no such help: without statistics it prefers the index that matches more equality
-- terms, and every lookup by id here (sqlite.ts: findMessage, deleteMessage) names all three
-- columns of the unique key. The version exists so that both engines stay numbered alike.
SELECT 1;
