// Profiling helper (not part of `npm run bench`): runs one Sotto scenario with the fast provider long
// enough for a CPU profile, e.g.
//   node --cpu-prof --cpu-prof-dir=/tmp/sotto-prof --import tsx bench/profile.ts ping-pong
//   node --import tsx bench/profile-summary.ts /tmp/sotto-prof/<file>.cpuprofile
import { fastProvider } from '@sotto/crypto';
import { nobleProvider } from '@sotto/protocol';
import { sottoContender } from './protocol.ts';

const scenario = process.argv[2] ?? 'ping-pong';
const provider = process.argv.includes('--noble') ? nobleProvider : fastProvider;
const c = sottoContender(provider);
await c.prepare();
const until = Date.now() + Number(process.env.PROFILE_SECONDS ?? '8') * 1000;
let n = 0;
const t0 = Date.now();
while (Date.now() < until) {
  if (scenario === 'one-direction') n += (await c.oneDirection(1000), 1000);
  else if (scenario === 'ping-pong') n += (await c.pingPong(200), 200);
  else if (scenario === 'setup') n += (await c.setups(20), 20);
  else throw new Error(`unknown scenario ${scenario}: one-direction | ping-pong | setup`);
}
console.log(`${scenario}: ${n} operations in ${((Date.now() - t0) / 1000).toFixed(1)} s (incl. untimed preparation)`);
