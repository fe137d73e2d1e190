// The Sotto deployment every Sotto scenario starts from: the REAL server (@sotto/server `startServer`, SQLite in
// a temporary data directory, an ephemeral loopback port), mallory's recording proxy in front of it
// (src/mallory/proxy.ts), and REAL SDK clients (@sotto/client `createAccount`) that are given the proxy's URL as
// their server. Nothing is stubbed: every byte between clients and server crosses the proxy, and the server
// keeps its state in the SQLite file the provider-compromise attacker later reads.
//
// Keystores use weak Argon2id parameters (`testOnlyWeakKdf`): no attack here guesses passphrases — the
// device-key-theft attacker is GIVEN the passphrase (the worst case) — so the KDF's cost changes no outcome,
// only the run time.
//
// `said` is the ground truth of what users wrote. Only the scoring reads it, to check whether anything an
// attacker recovered is real content; no attacker reads it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccount, isClientError, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { nodeWebSocket, softwareKeystore } from '@sotto/client/node';
import { startServer } from '@sotto/server';
import { AttacksError } from '../errors.ts';
import { RecordingProxy } from '../mallory/proxy.ts';

/** Weak Argon2id parameters for the scenario keystores (see the header: no attack guesses passphrases). */
export const SCENARIO_KDF = { m: 64, t: 1, p: 1 } as const;

export interface SottoUser {
  readonly username: string;
  readonly home: string;
  readonly passphrase: string;
  client: SottoClient;
}

/** One message as it was really written (the ground truth). */
export interface Said {
  readonly from: string;
  readonly to: string;
  readonly text: string;
}

/** "ERR_A ← ERR_B": an error's code and the codes of its causes (what an SDK reported, for the evidence). */
export function causes(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) parts.push((c as { code?: unknown }).code === undefined ? c.name : String((c as { code?: unknown }).code));
  return parts.join(' ← ');
}

/** `success` when `p` resolves, the ClientError's code when it rejects with one (anything else is rethrown). */
export async function clientErrorCode(p: Promise<unknown>, success: string): Promise<string> {
  try {
    await p;
    return success;
  } catch (e) {
    if (isClientError(e)) return e.code;
    throw e;
  }
}

type Server = Awaited<ReturnType<typeof startServer>>;

export class SottoWorld {
  readonly dir: string;
  readonly dataDir: string;
  readonly server: Server;
  readonly proxy: RecordingProxy;
  readonly said: Said[] = [];
  readonly #users: SottoUser[] = [];

  private constructor(dir: string, dataDir: string, server: Server, proxy: RecordingProxy) {
    this.dir = dir;
    this.dataDir = dataDir;
    this.server = server;
    this.proxy = proxy;
  }

  /** Starts a server on SQLite in a fresh temporary directory and mallory's proxy in front of it. */
  static async create(): Promise<SottoWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'sotto-scorecard-'));
    const dataDir = join(dir, 'server-data');
    try {
      const server = await startServer({ host: '127.0.0.1', port: 0, dataDir });
      try {
        return new SottoWorld(dir, dataDir, server, await RecordingProxy.start(server.url));
      } catch (e) {
        await server.close();
        throw e;
      }
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Registers a user through the proxy with a real SDK client and a real keystore; `now` is the device's clock. */
  async user(username: string, opts: { now?: () => number } = {}): Promise<SottoUser> {
    const home = join(this.dir, `home-${username}`);
    const passphrase = `correct horse battery staple ${username}`;
    const client = await createAccount({
      keystore: softwareKeystore(home, { testOnlyWeakKdf: SCENARIO_KDF }), webSocket: nodeWebSocket, passphrase, username, serverUrl: this.proxy.url,
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
    const user: SottoUser = { username, home, passphrase, client };
    this.#users.push(user);
    return user;
  }

  /** `from` sends `text` to `to`; `to` receives it (its backlog) and must see exactly that text from `from`. */
  async send(from: SottoUser, to: SottoUser, text: string): Promise<ReceivedMessage[]> {
    await from.client.sendText(to.username, text);
    this.said.push({ from: from.username, to: to.username, text });
    const got = await to.client.receive({ waitMs: 0 });
    if (!got.some((m) => m.kind === 'text' && m.from === from.username && m.text === text)) {
      throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'an honest message was not delivered');
    }
    this.proxy.checkHealthy();
    return got;
  }

  /** Every user takes whatever is queued for them (e.g. delivery receipts), so that nothing is left pending. */
  async drain(): Promise<void> {
    for (const u of this.#users) await u.client.receive({ waitMs: 0 });
  }

  async close(): Promise<void> {
    for (const u of this.#users) {
      try {
        await u.client.close();
      } catch {
        // already closed by the scenario
      }
    }
    await this.proxy.close();
    await this.server.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The secret file of the typical conversation (its bytes are ground truth, like `said`). */
export const SECRET_FILE = { name: 'merger-plan.txt', mime: 'text/plain', text: 'Project Kestrel: acquisition of Northwind at 41.50 per share, announce on 3 March.' } as const;

/**
 * alice and bob talk: three texts, one each way first
 * (so the first message is a prekey message and the session is then ratcheted), and a file through an
 * attachment that bob downloads. Everyone then takes their delivery receipts.
 */
export async function typicalConversation(world: SottoWorld): Promise<{ alice: SottoUser; bob: SottoUser }> {
  const alice = await world.user('alice');
  const bob = await world.user('bob');
  await world.send(alice, bob, 'Bob, meet me at the north gate at six.');
  await world.send(bob, alice, 'Understood. Bring the signed contract.');
  await world.send(alice, bob, 'The safe code is 4471-9902.');
  await alice.client.sendFile(bob.username, { name: SECRET_FILE.name, mime: SECRET_FILE.mime, bytes: new TextEncoder().encode(SECRET_FILE.text) });
  const got = await bob.client.receive({ waitMs: 0 });
  const file = got.find((m) => m.kind === 'file');
  if (file?.kind !== 'file') throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the file message was not delivered');
  const bytes = await bob.client.downloadFile(file.file);
  if (new TextDecoder().decode(bytes) !== SECRET_FILE.text) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the downloaded file differs');
  await world.drain();
  return { alice, bob };
}
