// The browser end-to-end tests' world (issue 4 "Tests"): the real `sotto serve` as a child process on
// 127.0.0.1 (port 0, a temp data directory) serving the built web client at `/`, real Chromium through
// @sotto/test-support/browser (one BrowserContext per user), and CLI users with their own --home.
// WebUser drives the UI the way a person does — by visible labels and roles, with the keyboard where it
// matters — so the tests also check that every control is labelled for screen readers.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, startProcess, type RunResult, type StartedProcess } from '@sotto/test-support';
import { newUser, screenshot } from '@sotto/test-support/browser';
import type { Browser, BrowserContext, ConsoleMessage, Locator, Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOTTO = join(ROOT, 'packages', 'cli', 'bin', 'sotto.mjs');
const DIST = join(ROOT, 'packages', 'web', 'dist', 'index.html');

/** Generous: creating or unlocking an account runs production Argon2id in the page (a few seconds). */
export const SLOW_MS = 90_000;

/** The built client must exist: `npm test` builds it (scripts/ensure-deps.mjs); say so otherwise. */
export function requireBuiltClient(): void {
  assert.ok(existsSync(DIST), `expected the built web client at ${DIST}: run 'npm run build:web' (npm test does it)`);
}

/** A scratch directory removed when the test ends. */
export function scratch(t: { after: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** This process's environment without SOTTO_* variables, HOME in a scratch directory, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SOTTO_')) env[k] = v;
  env['HOME'] = mkdtempSync(join(tmpdir(), 'sotto-web-home-'));
  return { ...env, ...extra };
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly proc: StartedProcess;
}

/** `sotto serve --port <port> --data <dataDir>` (port 0: any free one); resolves once it listens.
 *  With `turn`: `--turn-url <url>` and the secret in $SOTTO_TURN_SECRET (docs/protocol/11 §11.7). */
export async function startServe(dataDir: string, port = 0, opts: { turn?: { readonly url: string; readonly secret: string } } = {}): Promise<RunningServer> {
  const turnArgs = opts.turn === undefined ? [] : ['--turn-url', opts.turn.url];
  const env = cleanEnv(opts.turn === undefined ? {} : { SOTTO_TURN_SECRET: opts.turn.secret });
  const proc = startProcess(process.execPath, [SOTTO, 'serve', '--port', String(port), '--data', dataDir, ...turnArgs], { cwd: tmpdir(), env });
  const m = await proc.waitFor(/^sotto: listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
  return { url: m[1] ?? '', port: Number(m[2]), proc };
}

/** A CLI user: `sotto --home <home>` with $SOTTO_PASSPHRASE. */
export class CliUser {
  constructor(
    readonly home: string,
    readonly passphrase: string,
  ) {}

  run(args: readonly string[]): Promise<RunResult> {
    return runProcess(process.execPath, [SOTTO, '--home', this.home, ...args], { cwd: tmpdir(), env: cleanEnv({ SOTTO_PASSPHRASE: this.passphrase }) });
  }

  async ok(args: readonly string[]): Promise<string> {
    const r = await this.run(args);
    assert.equal(r.status, 0, `sotto ${args.join(' ')} exited with ${String(r.status)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** `receive --json` parsed, receipts left out. */
  async receive(extra: readonly string[] = []): Promise<Record<string, unknown>[]> {
    const out = await this.ok(['receive', '--json', ...extra]);
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((m) => m['kind'] !== 'delivered');
  }
}

/** Screenshots go to artifacts/web/<name>.png (the repository's ignored artifacts folder). */
export function shot(page: Page, name: string): Promise<string> {
  return screenshot(page, `web/${name}`);
}

/** What Chromium itself prints on the console for failed requests, when a test causes them. */
export const BROWSER_REPORTS = {
  /** Registering a name that is taken: the server's 409, and the 401 of the SDK's check whether an
   *  earlier attempt of its own got the name (docs/protocol/09 §9.3). */
  taken: /^console error: Failed to load resource: the server responded with a status of (409 \(Conflict\)|401 \(Unauthorized\))$/,
  /** The directory's 404 for a username that does not exist. */
  notFound: /^console error: Failed to load resource: the server responded with a status of 404 \(Not Found\)$/,
  /** A restarting server: refused WebSocket connections while it is down, and the 401 of a session
   *  token it no longer knows (the SDK signs in again). */
  restart: /^console error: (WebSocket connection to '[^']+' failed: .*ERR_CONNECTION_REFUSED|Failed to load resource: the server responded with a status of 401 \(Unauthorized\))$/,
  /** A server that refuses the sealed-send socket (docs/protocol/09 §9.7.1; the SDK then sends over HTTP). */
  sealedSocketRefused: /^console error: WebSocket connection to '[^']+\/v1\/ws\/sealed' failed: Error during WebSocket handshake: Unexpected response code: 404$/,
} as const;

/** Console errors and exceptions of every page of a user, and Content-Security-Policy violations
 *  (an inline script or style, or a refused WebAssembly compile, would show up here). */
function watch(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) errors.push(`console ${m.type()}: ${m.text()}`);
  });
}

/** One person using the web client in their own browser context. */
export class WebUser {
  page: Page;
  readonly errors: string[];

  private constructor(
    readonly name: string,
    readonly passphrase: string,
    readonly context: BrowserContext,
    page: Page,
    readonly url: string,
    errors: string[],
  ) {
    this.page = page;
    this.errors = errors;
  }

  static async open(browser: Browser, url: string, name: string, passphrase: string, viewport = { width: 1280, height: 800 }): Promise<WebUser> {
    const u = await newUser(browser, { viewport });
    const errors: string[] = [];
    // Chromium reports a CSP violation as an event, not always on the console (a refused WebAssembly
    // compile is silent there): every page of the context reports them to the test.
    await u.context.exposeBinding('__sottoCspViolation', (_source, v: string) => {
      errors.push(`CSP violation: ${v}`);
    });
    await u.context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        void (window as unknown as { __sottoCspViolation: (v: string) => Promise<void> }).__sottoCspViolation(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    watch(u.page, errors);
    await u.page.goto(url);
    return new WebUser(name, passphrase, u.context, u.page, url, errors);
  }

  /** Fills the create-account form and waits for the main screen. */
  async register(): Promise<void> {
    const p = this.page;
    await p.getByRole('heading', { name: 'Create your Sotto account' }).waitFor();
    await p.getByLabel('Username').fill(this.name);
    await p.getByLabel('Passphrase', { exact: true }).fill(this.passphrase);
    await p.getByLabel('Repeat the passphrase').fill(this.passphrase);
    await p.getByRole('button', { name: 'Create account' }).click();
    await this.waitUnlocked();
  }

  async waitUnlocked(): Promise<void> {
    await this.page.getByText(`Signed in as ${this.name}`).waitFor({ timeout: SLOW_MS });
  }

  /** Closes this page (the tab), as a person closing the browser tab does. */
  async closePage(): Promise<void> {
    await this.page.close();
  }

  /** A new tab on the app in the same browser profile (its IndexedDB is still there). */
  async reopen(): Promise<void> {
    this.page = await this.context.newPage();
    watch(this.page, this.errors);
    await this.page.goto(this.url);
  }

  async unlock(): Promise<void> {
    await this.page.getByRole('heading', { name: 'Unlock Sotto' }).waitFor();
    await this.page.getByLabel('Passphrase').fill(this.passphrase);
    await this.page.getByRole('button', { name: 'Unlock' }).click();
    await this.waitUnlocked();
  }

  /** The conversation list entry for `who`. */
  conversation(who: string): Locator {
    return this.page.getByRole('navigation', { name: 'Conversations' }).locator(`button[data-username="${who}"]`);
  }

  async startConversation(who: string): Promise<void> {
    await this.page.getByLabel('New conversation with (username)').fill(who);
    await this.page.getByLabel('New conversation with (username)').press('Enter');
    await this.page.getByRole('heading', { name: who, level: 2, exact: true }).waitFor();
  }

  async openConversation(who: string): Promise<void> {
    await this.conversation(who).click();
    await this.page.getByRole('heading', { name: who, level: 2, exact: true }).waitFor();
  }

  /** The open conversation's messages (the live log). */
  log(who: string): Locator {
    return this.page.getByRole('log', { name: `Messages with ${who}` });
  }

  /** Types into the composer and sends with Enter (the keyboard path). */
  async send(who: string, text: string): Promise<void> {
    const box = this.page.getByLabel(`Message to ${who}`);
    await box.fill(text);
    await box.press('Enter');
  }

  /** The list item of the sent or received message whose text is `text`. */
  message(who: string, text: string): Locator {
    return this.log(who).locator('li.msg').filter({ has: this.page.locator('p.text', { hasText: text }) });
  }

  /** Waits until the sent message `text` shows `status` (Sent, Delivered, Not sent). */
  async waitStatus(who: string, text: string, status: 'Sent' | 'Delivered' | 'Not sent'): Promise<void> {
    await this.message(who, text).locator('.status', { hasText: new RegExp(`^${status}`) }).waitFor({ timeout: SLOW_MS });
  }

  /** The trust badge of `who` in the conversation list. */
  badge(who: string): Locator {
    return this.conversation(who).locator('.badge');
  }

  /** The trust badge in the open conversation's (or verification screen's) header. */
  headerBadge(): Locator {
    return this.page.locator('main .chat__header .badge');
  }

  /** Opens the verification screen of the open conversation. */
  async openVerification(who: string): Promise<void> {
    await this.page.getByRole('button', { name: `Safety number and verification with ${who}` }).click();
    await this.page.getByRole('heading', { name: `Verify ${who}` }).waitFor();
    await this.page.getByRole('group', { name: 'Safety number' }).locator('.group').first().waitFor();
  }

  /** The 60 digits the verification screen shows. */
  async shownDigits(): Promise<string> {
    const groups = await this.page.getByRole('group', { name: 'Safety number' }).locator('.group').allTextContents();
    assert.equal(groups.length, 12);
    return groups.join('');
  }

  /** The verification screen's QR code as SVG markup. */
  async shownQrSvg(): Promise<string> {
    return this.page.locator('svg.qr').evaluate((el) => el.outerHTML);
  }

  /** No console errors, exceptions or CSP violations happened on this user's pages, except the
   *  browser's own network reports a test caused on purpose (`expected`, from BROWSER_REPORTS). */
  assertClean(expected: readonly RegExp[] = []): void {
    const problems = this.errors.filter((e) => !expected.some((re) => re.test(e)));
    assert.deepEqual(problems, [], `${this.name}'s pages reported problems`);
  }
}
