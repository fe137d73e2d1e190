// The end-to-end scenario (scenario.ts) with PostgreSQL: `sotto serve --database postgres://...` on a
// throw-away cluster (the store package's fixture: Debian's PostgreSQL in a temporary directory,
// loopback only; `npm test` installs the package when missing). The malicious operator deletes the
// account with SQL while the server is stopped.
import { after, test } from 'node:test';
import { startPostgresCluster } from '../../store/test/fixtures/postgres-cluster.ts';
import { twoUsersScenario } from './scenario.ts';

const cluster = await startPostgresCluster();
after(() => cluster.stop());

test('postgres: two CLI users over a real server: messages and files both ways, online and offline; verification; a swapped key is caught', async () => {
  const database = await cluster.createDatabase();
  await twoUsersScenario({
    serveArgs: () => ['--database', `postgres://postgres@127.0.0.1:${cluster.port}/${database}`],
    deleteAccount: async (_dataDir, username) => (await cluster.sql('DELETE FROM accounts WHERE username = $1 RETURNING username', [username], database)).length,
  });
});
