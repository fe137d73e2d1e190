// Summarises a V8 .cpuprofile of the server child: self time by function, and by where the code lives
// (a package of the repository, a dependency, Node's internals, or V8's own entries such as
// "(garbage collector)" and "(idle)"). Time a synchronous native call spends — better-sqlite3's
// statements with their fsync — is the self time of that native function's node.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function where(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : `(native) ${fn}`;
  const pkg = /\/packages\/([^/]+)\/src\/(.*)$/.exec(url);
  if (pkg !== null) return `@sotto/${pkg[1] ?? ''}`;
  const dep = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep !== null) return dep[1] ?? url;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').replace(/\/.*$/, '').replace(/_.*$/, '');
  return url;
}

/** Lines: totals, then the top `top` functions and places by self time, and the repository's named
 *  functions by inclusive time (the synchronous part: an async function's time after an await is
 *  counted under the microtask queue that resumed it). */
export function summarizeProfile(file: string, top: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const place = new Map<string, number>();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (n === undefined) return;
    total += dt;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') idle += dt;
    const short = url.replace(/^.*\/(node_modules|packages)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${functionName || '(anonymous)'}${short === '' ? '' : `  ${short}:${lineNumber + 1}`}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const w = where(url, functionName);
    place.set(w, (place.get(w) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f === undefined || f.functionName === '' || !/\/packages\/|\/better-sqlite3\/|\/ws\//.test(f.url)) continue;
      const k = `${f.functionName}  ${where(f.url, f.functionName)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const lines = [`profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle; shares below are of the non-idle time`];
  const show = (m: Map<string, number>, title: string): void => {
    lines.push('', title);
    for (const [k, v] of [...m.entries()].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
  };
  show(self, 'self time by function');
  show(place, 'self time by place');
  show(inclusive, 'inclusive time of named functions of the repository, better-sqlite3 and ws');
  return lines;
}
