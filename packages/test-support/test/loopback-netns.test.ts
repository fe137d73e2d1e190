// scripts/test.mjs runs the suite in a network namespace holding only loopback when it can (root on
// Linux). This checks that the namespace is what it claims: no interface but `lo`, so no test can send
// a packet anywhere but 127.0.0.1 / ::1, and WebRTC tests see only loopback candidates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';

const inside = process.env.SOTTO_TEST_NETNS === 'inside';

test('inside the test network namespace, only loopback addresses exist', { skip: inside ? false : 'not run in the loopback-only namespace (not root, or SOTTO_TEST_NETNS=off)' }, () => {
  const addresses = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).map((a) => ({ name, ...a })));
  assert.ok(addresses.length > 0, 'loopback is up');
  for (const a of addresses) assert.equal(a.internal, true, `${a.name} ${a.address} is not loopback`);
  assert.deepEqual([...new Set(addresses.map((a) => a.address))].sort(), ['127.0.0.1', '::1']);
});

test('CI runs as root on Linux, so CI always uses the namespace', { skip: process.env.CI === 'true' ? false : 'only checked in CI' }, () => {
  if (process.platform === 'linux' && process.getuid?.() === 0) assert.equal(process.env.SOTTO_TEST_NETNS, 'inside');
});
