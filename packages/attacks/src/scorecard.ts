// The scorecard runner (issue 6, docs/scorecard.md): runs every scenario — each attack against each system — for
// real, one after the other, and renders the rows as a markdown table or JSON. A row exists only if its scenario
// ran to an outcome; a scenario that fails to run fails the whole scorecard (ERR_ATTACKS_SCENARIO_FAILED) rather
// than leaving a cell that nobody measured.
import { AttacksError } from './errors.ts';
import { ATTACKS, SYSTEMS, type AttackId, type Outcome, type Scenario, type SystemId } from './scenario.ts';
import { mikeyDeviceKeyTheft } from './scenarios/mikey-sakke/device-key-theft.ts';
import { mikeyDowngrade } from './scenarios/mikey-sakke/downgrade.ts';
import { mikeyKeySubstitution } from './scenarios/mikey-sakke/key-substitution.ts';
import { mikeyPassiveCapture } from './scenarios/mikey-sakke/passive-capture.ts';
import { mikeyProviderCompromise } from './scenarios/mikey-sakke/provider-compromise.ts';
import { mikeyReplay } from './scenarios/mikey-sakke/replay.ts';
import { sottoDeviceKeyTheft } from './scenarios/sotto/device-key-theft.ts';
import { sottoDowngrade } from './scenarios/sotto/downgrade.ts';
import { sottoKeySubstitution } from './scenarios/sotto/key-substitution.ts';
import { sottoPassiveCapture } from './scenarios/sotto/passive-capture.ts';
import { sottoProviderCompromise } from './scenarios/sotto/provider-compromise.ts';
import { sottoReplay } from './scenarios/sotto/replay.ts';
import { sottoCallsDeviceKeyTheft } from './scenarios/sotto-calls/device-key-theft.ts';
import { sottoCallsDowngrade } from './scenarios/sotto-calls/downgrade.ts';
import { sottoCallsKeySubstitution } from './scenarios/sotto-calls/key-substitution.ts';
import { sottoCallsPassiveCapture } from './scenarios/sotto-calls/passive-capture.ts';
import { sottoCallsProviderCompromise } from './scenarios/sotto-calls/provider-compromise.ts';
import { sottoCallsReplay } from './scenarios/sotto-calls/replay.ts';

export interface ScorecardRow {
  readonly attack: AttackId;
  readonly system: SystemId;
  readonly outcome: Outcome;
  readonly detail: string;
}

/** Every scenario, in table order: attacks in the order; MIKEY-SAKKE, then Sotto (messages), then Sotto
 *  calls (the like-for-like comparison with MIKEY-SAKKE, which only does calls). */
export const SCENARIOS: readonly Scenario[] = [
  mikeyPassiveCapture,
  sottoPassiveCapture,
  sottoCallsPassiveCapture,
  mikeyProviderCompromise,
  sottoProviderCompromise,
  sottoCallsProviderCompromise,
  mikeyKeySubstitution,
  sottoKeySubstitution,
  sottoCallsKeySubstitution,
  mikeyDeviceKeyTheft,
  sottoDeviceKeyTheft,
  sottoCallsDeviceKeyTheft,
  mikeyReplay,
  sottoReplay,
  sottoCallsReplay,
  mikeyDowngrade,
  sottoDowngrade,
  sottoCallsDowngrade,
];

export interface RunScorecardOptions {
  /** Only these attacks / systems (default: all). */
  readonly attacks?: readonly AttackId[];
  readonly systems?: readonly SystemId[];
  /** Called after each row, e.g. for progress output. */
  readonly onRow?: (row: ScorecardRow) => void;
}

/** Runs the selected scenarios one after the other (each starts its own servers and networks). */
export async function runScorecard(opts: RunScorecardOptions = {}, scenarios: readonly Scenario[] = SCENARIOS): Promise<{ rows: ScorecardRow[] }> {
  const rows: ScorecardRow[] = [];
  for (const s of scenarios) {
    if (opts.attacks !== undefined && !opts.attacks.includes(s.attack)) continue;
    if (opts.systems !== undefined && !opts.systems.includes(s.system)) continue;
    let result;
    try {
      result = await s.run();
    } catch (e) {
      throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', `${s.system} / ${s.attack} did not run to an outcome: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const row: ScorecardRow = { attack: s.attack, system: s.system, outcome: result.outcome, detail: result.detail };
    rows.push(row);
    opts.onRow?.(row);
  }
  return { rows };
}

const ATTACK_TITLES: Readonly<Record<AttackId, string>> = {
  'passive-capture': 'passive capture of all traffic',
  'provider-compromise': 'provider compromise (server/KMS + every byte relayed)',
  'key-substitution': 'key substitution by the provider',
  'device-key-theft': 'device key theft, after the fact',
  replay: 'replay',
  downgrade: 'downgrade',
};

const OUTCOME_MARK: Readonly<Record<Outcome, string>> = { resisted: '✅ resisted', detected: '⚠️ detected', compromised: '❌ compromised' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The comparison table: one line per attack, one column per system. */
export function renderSummaryTable(rows: readonly ScorecardRow[]): string {
  const systems = SYSTEMS.filter((s) => rows.some((r) => r.system === s));
  const attacks = ATTACKS.filter((a) => rows.some((r) => r.attack === a));
  const lines = [`| attack | ${systems.join(' | ')} |`, `|---|${systems.map(() => '---|').join('')}`];
  for (const a of attacks) {
    const cells = systems.map((s) => {
      const row = rows.find((r) => r.attack === a && r.system === s);
      return row === undefined ? 'not run' : OUTCOME_MARK[row.outcome];
    });
    lines.push(`| ${ATTACK_TITLES[a]} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The comparison table followed by the details of every row. */
export function renderMarkdown(rows: readonly ScorecardRow[]): string {
  const lines = ['| attack | system | outcome | what happened |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.attack} | ${r.system} | ${r.outcome} | ${cell(r.detail)} |`);
  return `${renderSummaryTable(rows)}\n${lines.join('\n')}\n`;
}

/** Markers around the generated table in docs/scorecard.md. */
export const DOC_BEGIN = '<!-- scorecard:begin -->';
export const DOC_END = '<!-- scorecard:end -->';

/** `doc` with the text between the markers replaced by `table` (ERR_ATTACKS_ARGUMENT without the markers). */
export function replaceDocTable(doc: string, table: string): string {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin) throw new AttacksError('ERR_ATTACKS_ARGUMENT', `the document has no ${DOC_BEGIN} … ${DOC_END} section`);
  return `${doc.slice(0, begin + DOC_BEGIN.length)}\n${table}${doc.slice(end)}`;
}

/** `{"rows":[{attack, system, outcome, detail}, ...]}` (issue 6). */
export function renderJson(rows: readonly ScorecardRow[]): string {
  return `${JSON.stringify({ rows: rows.map(({ attack, system, outcome, detail }) => ({ attack, system, outcome, detail })) }, null, 2)}\n`;
}
