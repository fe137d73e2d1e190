// The SAS question of `sotto call` / `sotto answer` (docs/protocol/11 §11.4; src/calls/sas-answer.ts)
// with two real CLI processes whose stdin is a pipe the test types into: a real `sotto serve`, Alice
// and Bob. First call: Bob's answer typed before the words were shown is ignored; Alice says a
// non-answer, then 'y' → she sees Bob verified (words compared in a call) in `sotto contacts`, while
// Bob, who never answered, still has Alice unverified. Second call: Bob says 'n' → both processes end
// with the mismatch line and status 1, and nobody's trust state changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartedProcess } from '@sotto/test-support';
import { parseSasAnswer } from '../src/calls/sas-answer.ts';
import { expectOk, lastLine, twoRegisteredUsers, type CliUser } from './helpers.ts';

const SAS_LINE = /^SAS: [A-Za-z]+ [A-Za-z]+ \([ybndrfg8ejkmcpqxot1uwisza345h769]{4}\) — read it aloud and compare$/m;

async function contactLine(user: CliUser, who: string): Promise<string> {
  const r = expectOk(await user.run(['contacts']), 'contacts');
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${who} `));
  assert.ok(line !== undefined, `contacts lists ${who}:\n${r.stdout}`);
  return line;
}

/** Starts `answer` on `callee` and `call` on `caller`, and waits for both SAS lines (which must agree). */
async function connect(caller: CliUser, callee: CliUser, calleeName: string, beforeCall?: (answering: StartedProcess) => void): Promise<[StartedProcess, StartedProcess]> {
  const answering = callee.startInteractive(['answer', '--wait', '60']);
  await answering.waitFor(/sotto: waiting for a call/, { stream: 'stderr' });
  beforeCall?.(answering);
  const calling = caller.startInteractive(['call', calleeName]);
  const [a, b] = await Promise.all([calling.waitFor(SAS_LINE), answering.waitFor(SAS_LINE)]);
  assert.equal(a[0], b[0], 'both sides print the same SAS');
  return [calling, answering];
}

test('parseSasAnswer: y/yes and n/no in any case, nothing else', () => {
  for (const y of ['y', 'Y', 'yes', ' YES ', 'Yes\r']) assert.equal(parseSasAnswer(y), 'match', y);
  for (const n of ['n', 'N', 'no', ' No\t']) assert.equal(parseSasAnswer(n), 'mismatch', n);
  for (const other of ['', 'maybe', 'yess', 'y y', 'ja', 'nope', '1']) assert.equal(parseSasAnswer(other), undefined, other);
});

test('the SAS question on stdin: y verifies the contact (words compared in a call); n ends the call on both sides, trust unchanged', async (t) => {
  const started: StartedProcess[] = [];
  t.after(() => {
    for (const p of started) p.child.kill('SIGKILL');
  });
  const { alice, bob } = await twoRegisteredUsers(t, 'sotto-cli-sas-', { alice: 'alice compares words', bob: 'bob reads them aloud' });

  // --- 1: Alice says the words match --------------------------------------------------------
  const [calling, answering] = await connect(alice, bob, 'bob', (a) => {
    a.write('yes\n'); // typed before any words were shown: must not count
  });
  started.push(calling, answering);
  await answering.waitFor(/sotto: input before the words were shown is ignored: answer after the SAS line/, { stream: 'stderr' });
  calling.write('maybe\n');
  await calling.waitFor(/sotto: not an answer to 'do the words match\?': expected y or n/, { stream: 'stderr' });
  calling.write('y\n');
  await calling.waitFor(/^bob is now verified \(words compared in a call\)$/m);
  calling.child.kill('SIGINT'); // Ctrl-C: Alice hangs up
  const [ca, cb] = await Promise.all([calling.exited, answering.exited]);
  assert.equal(ca.status, 0, `alice's call exits 0 after Ctrl-C\n${calling.stderr()}`);
  assert.equal(cb.status, 0, `bob's answer exits 0 on the remote hang-up\n${answering.stderr()}`);
  assert.doesNotMatch(calling.stderr(), /Do the words match/, 'no question on stderr when stdin is not a terminal');
  assert.match(answering.stderr(), /sotto: the words were not confirmed: alice's trust state is unchanged/);
  assert.match(await contactLine(alice, 'bob'), /^bob\s+verified \(words compared in a call\)\s/);

  // --- 2: Bob calls; he says the words do not match -------------------------------------------
  const [bobCalls, aliceAnswers] = await connect(bob, alice, 'alice');
  started.push(bobCalls, aliceAnswers);
  bobCalls.write('n\n');
  const [eb, ea] = await Promise.all([bobCalls.exited, aliceAnswers.exited]);
  assert.equal(eb.status, 1, `bob's call fails\n${bobCalls.stderr()}`);
  assert.equal(ea.status, 1, `alice's answer fails\n${aliceAnswers.stderr()}`);
  assert.match(bobCalls.stderr(), /sotto: WARNING: the words do not match\. Someone may be in the middle of this call/);
  assert.equal(lastLine(bobCalls.stderr()), 'sotto: the call ended: the words did not match on this side, so someone may be intercepting the call; it was not trusted');
  assert.equal(lastLine(aliceAnswers.stderr()), "sotto: the call ended: the words did not match on bob's side, so someone may be intercepting the call; it was not trusted");
  assert.match(bobCalls.stderr(), /call ended \(sas-mismatch, by us\)/);
  assert.match(aliceAnswers.stderr(), /call ended \(sas-mismatch, by bob\)/);
  // §11.4: a mismatch changes no trust state (a word may be misheard), not even the earlier verification.
  assert.match(await contactLine(alice, 'bob'), /^bob\s+verified \(words compared in a call\)\s/);
  assert.match(await contactLine(bob, 'alice'), /^alice\s+unverified\s/, 'Bob never said the words matched');
});
