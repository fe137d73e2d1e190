// The whole scorecard, run for real (issue 6): every attack against MIKEY-SAKKE, Sotto and Sotto calls. A Sotto
// row (messages or calls) that is not `resisted` or `detected` fails the suite; the MIKEY-SAKKE escrow properties
// the issue names must show up as compromises, from the evidence each scenario gathered (not from the row text).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ATTACKS, SYSTEMS, DOC_BEGIN, DOC_END, renderJson, renderMarkdown, renderSummaryTable, runScorecard, SCENARIOS, type AttackResult, type Scenario } from '../src/index.ts';
import type { MikeyDeviceKeyTheftEvidence } from '../src/scenarios/mikey-sakke/device-key-theft.ts';
import type { MikeyKeySubstitutionEvidence } from '../src/scenarios/mikey-sakke/key-substitution.ts';
import type { MikeyProviderCompromiseEvidence } from '../src/scenarios/mikey-sakke/provider-compromise.ts';

test('the scorecard: Sotto resists or detects every attack; MIKEY-SAKKE falls to its escrow', async () => {
  const evidence = new Map<string, AttackResult>();
  const capturing: Scenario[] = SCENARIOS.map((s) => ({
    attack: s.attack,
    system: s.system,
    run: async () => {
      const r = await s.run();
      evidence.set(`${s.system}/${s.attack}`, r);
      return r;
    },
  }));
  const { rows } = await runScorecard({}, capturing);

  assert.equal(rows.length, ATTACKS.length * SYSTEMS.length, 'one row per attack and system');
  for (const attack of ATTACKS) {
    for (const system of SYSTEMS) {
      assert.equal(rows.filter((r) => r.attack === attack && r.system === system).length, 1, `${system}/${attack}: exactly one row`);
    }
  }
  for (const r of rows) assert.ok(r.detail.length > 40, `${r.system}/${r.attack}: the detail says what happened`);

  const sottoFailures = rows.filter((r) => r.system !== 'MIKEY-SAKKE' && r.outcome !== 'resisted' && r.outcome !== 'detected');
  assert.deepEqual(sottoFailures, [], 'every Sotto row (messages and calls) is resisted or detected');

  const outcome = (attack: string): string | undefined => rows.find((r) => r.system === 'MIKEY-SAKKE' && r.attack === attack)?.outcome;
  assert.equal(outcome('provider-compromise'), 'compromised', 'MIKEY-SAKKE: provider compromise');
  assert.equal(outcome('device-key-theft'), 'compromised', 'MIKEY-SAKKE: device key theft');
  assert.equal(outcome('key-substitution'), 'compromised', 'MIKEY-SAKKE: key substitution');

  const provider = evidence.get('MIKEY-SAKKE/provider-compromise') as MikeyProviderCompromiseEvidence | undefined;
  assert.ok(provider !== undefined, 'provider-compromise evidence');
  assert.equal(provider.callsRecovered, provider.callsRecorded, 'the KMS secrets open every recorded call');
  assert.equal(provider.framesRecovered, provider.framesSpoken, 'and every spoken frame');
  assert.ok(provider.monthsRecovered.length >= 3, 'calls of several past months');
  assert.ok(provider.latestCallMs < provider.compromisedAtMs, 'all recovered calls happened before the compromise');

  const theft = evidence.get('MIKEY-SAKKE/device-key-theft') as MikeyDeviceKeyTheftEvidence | undefined;
  assert.ok(theft !== undefined, 'device-key-theft evidence');
  assert.ok(theft.callsOpened > 0 && theft.framesRecovered > 0, 'keys stolen later decrypt earlier calls');
  assert.deepEqual(theft.stolenPeriods, ['2026-11'], 'only the current month was on the device');

  const substitution = evidence.get('MIKEY-SAKKE/key-substitution') as MikeyKeySubstitutionEvidence | undefined;
  assert.ok(substitution !== undefined, 'key-substitution evidence');
  assert.ok(substitution.framesReadByMallory > 0, 'mallory read the call in the middle');
  assert.deepEqual([...substitution.aliceEvents, ...substitution.bobEvents].map((e) => e.kind), ['call-connected', 'call-connected'], 'neither phone showed anything but a normal call');
  assert.equal(substitution.conversationIntact, true, 'the relay was transparent');

  // The renderers carry every row.
  const md = renderMarkdown(rows);
  for (const r of rows) assert.ok(md.includes(`| ${r.attack} | ${r.system} | ${r.outcome} |`), `markdown row ${r.system}/${r.attack}`);
  assert.deepEqual((JSON.parse(renderJson(rows)) as { rows: unknown }).rows, rows.map(({ attack, system, outcome: o, detail }) => ({ attack, system, outcome: o, detail })), 'JSON rows');

  // docs/scorecard.md shows the outcomes of this very run (regenerate with `npm run scorecard -- --update-doc`).
  const doc = readFileSync(new URL('../../../docs/scorecard.md', import.meta.url), 'utf8');
  const generated = doc.slice(doc.indexOf(DOC_BEGIN) + DOC_BEGIN.length, doc.indexOf(DOC_END));
  assert.ok(generated.trimStart().startsWith(renderSummaryTable(rows)), 'docs/scorecard.md §5 is current: run `npm run scorecard -- --update-doc`');
});
