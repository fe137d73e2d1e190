// `npm run scorecard` — runs every attack against MIKEY-SAKKE, Sotto (messages) and Sotto calls and prints the
// markdown table; `npm run scorecard -- --json` prints {rows: [...]}. Options: --attack <id> and
// --system <MIKEY-SAKKE|Sotto|"Sotto calls"> (repeatable) run a subset; --update-doc also writes the table into docs/scorecard.md (docs/scorecard.md §5).
// Exit code 1 when a scenario could not run (the message says which); the outcome of an attack, whatever it is,
// is output, never an exit code.
import { readFile, writeFile } from 'node:fs/promises';
import { AttacksError } from './errors.ts';
import { ATTACKS, SYSTEMS, type AttackId, type SystemId } from './scenario.ts';
import { renderJson, renderMarkdown, replaceDocTable, runScorecard } from './scorecard.ts';

const DOC = new URL('../../../docs/scorecard.md', import.meta.url);

function parseArgs(argv: readonly string[]): { json: boolean; updateDoc: boolean; attacks?: AttackId[]; systems?: SystemId[] } {
  let json = false;
  let updateDoc = false;
  const attacks: AttackId[] = [];
  const systems: SystemId[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--update-doc') updateDoc = true;
    else if (arg === '--attack') {
      const v = argv[++i];
      const id = ATTACKS.find((a) => a === v);
      if (id === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', `--attack: expected one of ${ATTACKS.join(', ')}`);
      attacks.push(id);
    } else if (arg === '--system') {
      const v = argv[++i];
      const id = SYSTEMS.find((s) => s === v);
      if (id === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', `--system: expected one of ${SYSTEMS.join(', ')}`);
      systems.push(id);
    } else throw new AttacksError('ERR_ATTACKS_ARGUMENT', `unknown argument (expected --json, --update-doc, --attack <id>, --system <name>)`);
  }
  if (updateDoc && (attacks.length > 0 || systems.length > 0)) throw new AttacksError('ERR_ATTACKS_ARGUMENT', '--update-doc needs the whole scorecard (no --attack / --system)');
  return { json, updateDoc, ...(attacks.length > 0 ? { attacks } : {}), ...(systems.length > 0 ? { systems } : {}) };
}

try {
  const args = parseArgs(process.argv.slice(2));
  const { rows } = await runScorecard({
    ...(args.attacks === undefined ? {} : { attacks: args.attacks }),
    ...(args.systems === undefined ? {} : { systems: args.systems }),
    onRow: (r) => process.stderr.write(`ran ${r.system} / ${r.attack}: ${r.outcome}\n`),
  });
  process.stdout.write(args.json ? renderJson(rows) : renderMarkdown(rows));
  if (args.updateDoc) await writeFile(DOC, replaceDocTable(await readFile(DOC, 'utf8'), renderMarkdown(rows)));
} catch (e) {
  process.stderr.write(`scorecard: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
