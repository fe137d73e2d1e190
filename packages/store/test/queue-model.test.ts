// Model-based test of the message queue (STYLE.md §12) on SQLite: random sequences of enqueue / ack /
// expire / fetch give the same observable results on the in-memory store and on SQLite (the model and
// its corpus are in queue-model.ts, shared with test/postgres.test.ts).
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '@sotto/store';
import { queueModelTest } from './queue-model.ts';

const root = mkdtempSync(join(tmpdir(), 'sotto-store-model-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let runs = 0;

queueModelTest('SQLite', () => openSqliteStore(join(root, `${++runs}.db`)), 150);
