// The README's first command must keep working: `npm start` runs the protocol demo (scripts/demo.ts)
// as a real child process, and what it prints must show a working session, rejected replay and
// forgery, and matching safety numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npm start: the protocol demo runs end to end', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `demo exited with ${String(r.status)}: ${r.stderr}`);
  const out = r.stdout;
  assert.match(out, /Bob opens it: from "alice", says "Hello Bob/);
  assert.match(out, /Alice reads Bob's reply: "Hi Alice! Got it\."/);
  assert.match(out, /replayed message is rejected: ERR_DUPLICATE_MESSAGE/);
  assert.match(out, /flipped bit is rejected: ERR_DECRYPT_FAILED/);
  assert.match(out, /genuine one still decrypts/);
  const shown = [...out.matchAll(/(?:Alice|Bob) sees: +([\d ]+)/g)].map((m) => (m[1] ?? '').replace(/ /g, ''));
  assert.equal(shown.length, 2, 'both safety numbers printed');
  assert.match(shown[0] ?? '', /^\d{60}$/, 'a safety number has 60 digits');
  assert.equal(shown[0], shown[1], 'both sides see the same safety number');
  assert.match(out, /They match/);
});
