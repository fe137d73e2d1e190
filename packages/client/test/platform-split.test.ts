// The platform split of @sotto/client (src/index.ts, src/node.ts, src/browser.ts): the main entry and
// the browser entry bundle for a browser with nothing Node-only in them, checked by bundling them with
// esbuild for the browser platform (which refuses node: modules) and reading what went in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const src = (f: string): string => fileURLToPath(new URL(`../src/${f}`, import.meta.url));

async function browserBundle(entry: string): Promise<{ ok: true; inputs: string[] } | { ok: false; errors: string[] }> {
  try {
    const r = await build({ entryPoints: [src(entry)], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    return { ok: true, inputs: Object.keys(r.metafile.inputs) };
  } catch (e) {
    const errors = (e as { errors?: { text: string }[] }).errors ?? [];
    return { ok: false, errors: errors.map((x) => x.text) };
  }
}

for (const entry of ['index.ts', 'browser.ts']) {
  test(`@sotto/client ${entry} bundles for the browser without node: modules or ws`, async () => {
    const r = await browserBundle(entry);
    assert.ok(r.ok, `expected a browser bundle, got errors: ${r.ok ? '' : r.errors.join('; ')}`);
    const offending = r.inputs.filter((p) => p.startsWith('node:') || /(^|\/)node_modules\/ws\//.test(p) || p.endsWith('/crypto/src/node.ts') || p.endsWith('/client/src/node.ts'));
    assert.deepEqual(offending, []);
    // @sotto/crypto resolves to its WebCrypto provider under the browser conditions.
    if (entry === 'index.ts') assert.ok(r.inputs.some((p) => p.endsWith('crypto/src/webcrypto.ts')), 'expected the WebCrypto provider in the bundle');
  });
}

test('@sotto/client/node does not bundle for the browser (the check above can fail)', async () => {
  const r = await browserBundle('node.ts');
  if (r.ok) assert.fail('expected the Node entry to fail to bundle for the browser');
  assert.ok(r.errors.some((t) => t.includes('node:')), `expected a node: resolution error, got ${r.errors.join('; ')}`);
});
