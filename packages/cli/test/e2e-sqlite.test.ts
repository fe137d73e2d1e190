// The end-to-end scenario (scenario.ts) with the embedded default: SQLite in `sotto serve --data DIR`.
// The malicious operator edits the database file with better-sqlite3 while the server is stopped.
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '@sotto/server';
import { twoUsersScenario } from './scenario.ts';

test('sqlite: two CLI users over a real server: messages and files both ways, online and offline; verification; a swapped key is caught', async () => {
  await twoUsersScenario({
    serveArgs: () => [],
    deleteAccount: (dataDir, username) => {
      const db = new Database(join(dataDir, SQLITE_FILE));
      try {
        db.pragma('foreign_keys = ON'); // devices, prekeys and queue go with the account (ON DELETE CASCADE)
        return Promise.resolve(db.prepare('DELETE FROM accounts WHERE username = ?').run(username).changes);
      } finally {
        db.close();
      }
    },
  });
});
