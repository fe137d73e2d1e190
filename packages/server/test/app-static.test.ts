// The web client at `/` (docs/protocol/09 §9.11): files from a directory or a map, index.html for the
// client's routes, content types, caching, the security headers on every answer, HEAD, no traversal
// (in process and over real HTTP with raw request lines), symbolic links out of the directory refused,
// the API untouched, and startServer's "not built" answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '@sotto/store';
import { CONTENT_SECURITY_POLICY, createApp, startServer, type StaticFiles } from '@sotto/server';
import { crypto, expectError, viaApp } from './support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sotto-server-static-'));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const INDEX = '<!doctype html><title>Sotto</title><script type="module" src="/assets/app-1a2b3c4d.js"></script>';
const APP_JS = 'console.log("app")';
const SECRET = 'secret outside the web directory';

/** A built web client on disk, a secret next to it, and a symbolic link pointing at the secret. */
function webDir(): string {
  const root = mkdtempSync(join(tmp, 'site-'));
  const dir = join(root, 'dist');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-1a2b3c4d.js'), APP_JS);
  writeFileSync(join(dir, 'assets', 'style-9f8e7d6c.css'), 'body{}');
  writeFileSync(join(dir, 'icon.svg'), '<svg/>');
  writeFileSync(join(dir, 'data.bin'), 'x');
  writeFileSync(join(dir, '.env'), SECRET);
  writeFileSync(join(root, 'secret.txt'), SECRET);
  symlinkSync(join(root, 'secret.txt'), join(dir, 'link.txt'));
  symlinkSync(root, join(dir, 'up'));
  return dir;
}

function app(staticFiles?: StaticFiles) {
  return createApp({ store: createMemoryStore(), crypto, limits: { sweepIntervalMs: 0 }, ...(staticFiles === undefined ? {} : { staticFiles }) });
}

function assertSecurityHeaders(res: Response, what: string): void {
  assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
}

test('the policy is the strict one of §9.11', () => {
  assert.equal(
    CONTENT_SECURITY_POLICY,
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  );
});

for (const [label, files] of [
  ['a directory', webDir()],
  [
    'a map',
    new Map<string, Uint8Array>([
      ['/index.html', new TextEncoder().encode(INDEX)],
      ['assets/app-1a2b3c4d.js', new TextEncoder().encode(APP_JS)],
      ['/assets/style-9f8e7d6c.css', new TextEncoder().encode('body{}')],
      ['/icon.svg', new TextEncoder().encode('<svg/>')],
      ['/data.bin', new TextEncoder().encode('x')],
    ]),
  ],
] as const) {
  test(`static files from ${label}: content types, index.html for client routes, caching, headers`, async () => {
    const http = viaApp(app(files));
    const cases: [path: string, status: number, type: string, cache: string, body?: string][] = [
      ['/', 200, 'text/html; charset=utf-8', 'no-cache', INDEX],
      ['/index.html', 200, 'text/html; charset=utf-8', 'no-cache', INDEX],
      ['/chat/bob', 200, 'text/html; charset=utf-8', 'no-cache', INDEX],
      ['/verify', 200, 'text/html; charset=utf-8', 'no-cache', INDEX],
      ['/assets/app-1a2b3c4d.js', 200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', APP_JS],
      ['/assets/style-9f8e7d6c.css', 200, 'text/css; charset=utf-8', 'public, max-age=31536000, immutable', 'body{}'],
      ['/icon.svg', 200, 'image/svg+xml', 'no-cache', '<svg/>'],
      ['/data.bin', 200, 'application/octet-stream', 'no-cache', 'x'],
      ['/assets/missing-00000000.js', 404, 'text/plain; charset=utf-8', 'no-store'],
      ['/favicon.ico', 404, 'text/plain; charset=utf-8', 'no-store'],
    ];
    for (const [path, status, type, cache, body] of cases) {
      const res = await http('GET', path);
      const text = await res.text();
      assert.equal(res.status, status, `${path}: status`);
      assert.equal(res.headers.get('content-type'), type, `${path}: content type`);
      assert.equal(res.headers.get('cache-control'), cache, `${path}: cache`);
      assertSecurityHeaders(res, path);
      if (body !== undefined) assert.equal(text, body, `${path}: body`);
    }
    // HEAD: same status and headers, the GET's length, no body
    const head = await http('HEAD', '/assets/app-1a2b3c4d.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(APP_JS.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assertSecurityHeaders(head, 'HEAD');
    // other methods and the API are untouched: JSON errors of §9.1
    await expectError(await http('POST', '/'), 404, 'ERR_API_NOT_FOUND', 'POST /');
    await expectError(await http('PUT', '/index.html'), 404, 'ERR_API_NOT_FOUND', 'PUT');
    await expectError(await http('GET', '/v1/nothing'), 404, 'ERR_API_NOT_FOUND', 'unknown API route');
    await expectError(await http('GET', '/v1'), 404, 'ERR_API_NOT_FOUND', '/v1');
    await expectError(await http('GET', '/v1/ws'), 404, 'ERR_API_NOT_FOUND', 'ws without upgrade');
    await expectError(await http('POST', '/v1/accounts/x'), 405, 'ERR_API_METHOD_NOT_ALLOWED', 'API 405');
    const health = await http('GET', '/health');
    assert.equal(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
  });
}

test('no traversal: dot segments, encoded separators, dot files, NUL, symbolic links out of the directory', async () => {
  const http = viaApp(app(webDir()));
  // Paths that must never reach a file outside the directory, nor a dot file: 404 (or index.html).
  const paths = [
    '/.env',
    '/%2eenv',
    '/assets/..%2f..%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/link.txt',
    '/up/secret.txt',
    '/up/dist/index.html',
    '/index.html%00.js',
    '/%00',
    '/%E0%A4%A',
    '//secret.txt',
    '/assets//app-1a2b3c4d.js',
  ];
  for (const path of paths) {
    const res = await http('GET', path);
    const text = await res.text();
    assert.ok(!text.includes(SECRET), `${path}: leaked the secret`);
    assert.ok(res.status === 404 || (res.status === 200 && text === INDEX), `${path}: expected 404 or index.html, got ${res.status}`);
    assertSecurityHeaders(res, path);
  }
  // The same over real HTTP with raw request lines (no client-side URL normalisation).
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(tmp, 'raw-data'), webDir: webDir() });
  try {
    const { port } = new URL(server.url);
    for (const target of ['/../secret.txt', '/assets/../../secret.txt', '/..%2fsecret.txt', '/.env', '/link.txt', '/up/secret.txt', '/%2e%2e/%2e%2e/secret.txt']) {
      const raw = await rawGet(Number(port), target);
      assert.ok(!raw.includes(SECRET), `${target}: leaked the secret over HTTP`);
      assert.match(raw, /^HTTP\/1\.1 (404|200) /, target);
    }
    // HEAD over HTTP: the GET's Content-Length, and no body on the wire
    const head = await rawRequest(Number(port), 'HEAD', '/');
    assert.match(head, /content-length: \d+/i);
    assert.equal(head.split('\r\n\r\n')[1], '');
    assert.match(head, new RegExp(`content-length: ${INDEX.length}\\r\\n`, 'i'));
  } finally {
    await server.close();
  }
});

test('startServer: the web directory without index.html answers that the client is not built; webDir false serves nothing', async () => {
  const empty = mkdtempSync(join(tmp, 'empty-'));
  const s1 = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(tmp, 'd1'), webDir: join(empty, 'dist') });
  try {
    const res = await fetch(`${s1.url}/`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await res.text(), /web client is not built/);
    assertSecurityHeaders(res, 'not built');
    // once built, the same running server serves it (the directory is read per request)
    mkdirSync(join(empty, 'dist'));
    writeFileSync(join(empty, 'dist', 'index.html'), INDEX);
    const built = await fetch(`${s1.url}/chat/alice`);
    assert.equal(built.status, 200);
    assert.equal(await built.text(), INDEX);
    assert.equal((await fetch(`${s1.url}/health`)).status, 200);
  } finally {
    await s1.close();
  }
  const s2 = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(tmp, 'd2'), webDir: false });
  try {
    await expectError(await fetch(`${s2.url}/`), 404, 'ERR_API_NOT_FOUND', 'webDir false');
  } finally {
    await s2.close();
  }
});

test('createApp without staticFiles: / is a JSON 404 as before', async () => {
  await expectError(await viaApp(app())('GET', '/'), 404, 'ERR_API_NOT_FOUND', 'no static files');
});

function rawRequest(port: number, method: string, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('end', () => {
      resolve(data);
    });
    socket.on('error', reject);
  });
}

function rawGet(port: number, target: string): Promise<string> {
  return rawRequest(port, 'GET', target);
}
