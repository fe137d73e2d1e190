// Real Chromium for tests (setup: ../shared/notes/browser-calls.md): Debian's /usr/bin/chromium driven
// by playwright-core (never `playwright install`), one browser per test file and one BrowserContext per
// user; pages bundled with esbuild into a temp directory and served from 127.0.0.1 by node:http (a
// secure context, so WebCrypto and IndexedDB work); screenshots into the repository's ignored
// artifacts/ folder for a reviewer. Only loopback networking.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`; scripts/ensure-deps.mjs installs it for `npm test`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The repository's artifacts folder (gitignored): screenshots a reviewer can look at. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../artifacts/', import.meta.url));

/** The launch flags of ../shared/notes/browser-calls.md (headless, no sandbox as root, no network
 *  chatter, fake media devices, loopback ICE). */
export const CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
]);

export interface LaunchOptions {
  /** A WAV file as the fake microphone (`--use-file-for-fake-audio-capture`). */
  readonly fakeAudioFile?: string;
  /** A y4m/mjpeg file as the fake camera (`--use-file-for-fake-video-capture`). */
  readonly fakeVideoFile?: string;
  /** More Chromium flags, appended. */
  readonly args?: readonly string[];
}

/** Whether Chromium is installed where the tests expect it. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** The full flag list for `opts`. */
export function chromiumArgs(opts: LaunchOptions = {}): string[] {
  return [
    ...CHROMIUM_FLAGS,
    ...(opts.fakeAudioFile === undefined ? [] : [`--use-file-for-fake-audio-capture=${opts.fakeAudioFile}`]),
    ...(opts.fakeVideoFile === undefined ? [] : [`--use-file-for-fake-video-capture=${opts.fakeVideoFile}`]),
    ...(opts.args ?? []),
  ];
}

/** Launches Debian's Chromium headless with the notes' flags. Fails clearly when it is not installed. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  if (!hasChromium()) throw new Error(`expected Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (npm test installs it)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(opts) });
}

type After = { after: (fn: () => Promise<void> | void) => void };

/** launchChromium, closed again when the test (or suite) `t` ends. */
export async function withChromium(t: After, opts: LaunchOptions = {}): Promise<Browser> {
  const browser = await launchChromium(opts);
  t.after(() => browser.close());
  return browser;
}

/** One user: a fresh BrowserContext (its own IndexedDB, cookies, storage) with one page. `errors`
 *  collects uncaught page exceptions and console errors, for tests that require a clean run. */
export interface UserPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: string[];
}

export async function newUser(browser: Browser, opts: BrowserContextOptions = {}): Promise<UserPage> {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  return { context, page, errors };
}

/** Saves a full-page PNG as artifacts/<name>.png (sub-folders allowed: "web/chat"; each segment starts
 *  with a letter or digit, so nothing lands outside artifacts/); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(name)) {
    throw new Error(`expected a screenshot name of segments [A-Za-z0-9][A-Za-z0-9._-]* joined by /, got ${JSON.stringify(name)}`);
  }
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await mkdir(join(path, '..'), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface BundleOptions {
  /** TypeScript/JavaScript entry file (absolute path); it becomes `main.js`. */
  readonly entry: string;
  /** The page; default: a minimal HTML page that loads main.js as a module. */
  readonly html?: string;
  /** Output directory; default: a new temp directory. */
  readonly outDir?: string;
}

export interface Bundle {
  readonly dir: string;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Bundles `entry` for the browser with esbuild (browser export conditions, ESM, sourcemap inline)
 *  into `dir/main.js`, next to `dir/index.html`. */
export async function bundleForBrowser(opts: BundleOptions): Promise<Bundle> {
  const dir = opts.outDir ?? (await mkdtemp(join(tmpdir(), 'sotto-page-')));
  await mkdir(dir, { recursive: true });
  await build({
    entryPoints: { main: opts.entry },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    outdir: dir,
    logLevel: 'silent',
  });
  await writeFile(join(dir, 'index.html'), opts.html ?? '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>test</title><script type="module" src="/main.js"></script>\n');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  /** "http://127.0.0.1:<port>" — 127.0.0.1 is a secure context: WebCrypto and IndexedDB work. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `dir` read-only on 127.0.0.1 (ephemeral port): `/` is index.html; no caching. For test pages. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(root, path === '/' ? 'index.html' : path));
      if (!file.startsWith(root + sep) || !(await stat(file).then((s) => s.isFile(), () => false))) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(await readFile(file));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => {
          ok();
        });
      }),
  };
}

/** bundleForBrowser + serveDirectory, both undone when `t` ends. Returns the page's URL. */
export async function servePage(t: After, opts: BundleOptions): Promise<string> {
  const bundle = await bundleForBrowser(opts);
  t.after(() => bundle.remove());
  const server = await serveDirectory(bundle.dir);
  t.after(() => server.close());
  return `${server.url}/`;
}
