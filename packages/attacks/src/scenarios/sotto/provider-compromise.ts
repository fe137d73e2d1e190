// Sotto, attack 2 — provider compromise (docs/scorecard.md §4.2). Mallory owns the provider: it copies the real
// server's data directory (the SQLite database and its WAL) and holds the proxy's recording of every byte the
// server relayed. It dumps every table and row, greps everything (raw and decoded) for what was written, takes
// every 32-byte value it holds as a candidate secret — identity seed, attachment key — and tries each on every
// sealed envelope (recorded, or still queued in the database) and on the attachment. One message is still
// queued, undelivered, when the provider falls.
//
// Control (so that this attack can fail): the recipient's real keystore, given to the same decryption code,
// must read the queued message — proving the pipeline would have found content had the server held a key.
import { createDecipheriv } from 'node:crypto';
import { join } from 'node:path';
import { fastProvider } from '@sotto/crypto';
import { isSealedBucket } from '@sotto/protocol';
import { systemRng } from '../../internal/rng.ts';
import { SECRET_FILE, SottoWorld, typicalConversation } from '../../internal/sotto-world.ts';
import { describeFailures, harvestKeystore, harvestValues, tryStolenKeys } from '../../mallory/sotto-keys.ts';
import { candidateSecrets, dumpServerData, occursIn, recordedBlobs, recordedEnvelopes, type RecordedEnvelope } from '../../mallory/sotto-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

/** docs/protocol/10 §10.3: the attachment AEAD's associated data. */
const ATTACHMENT_AAD = new TextEncoder().encode('Sotto_v1_Attachment');

export interface SottoProviderCompromiseEvidence extends AttackResult {
  readonly tablesDumped: number;
  readonly rowsDumped: number;
  readonly envelopesAttacked: number;
  readonly candidateSecrets: number;
  readonly secretsWritten: number;
  /** Secrets (texts, file) found in the dump or the recording, or decrypted with anything found there. */
  readonly secretsRecovered: number;
  readonly envelopesOpened: number;
  readonly attachmentsOpened: number;
  /** Candidate seeds whose public key the server stores: the server holding a user's private key. */
  readonly privateKeysHeld: number;
  /** Queue rows that name the sender of the message they hold (username or identity key). */
  readonly queueRowsNamingSender: number;
  readonly queueRows: number;
  /** Control: plaintexts the recipient's own keys read from the same envelopes (must be > 0). */
  readonly controlPlaintexts: number;
}

function aesGcmOpen(key: Uint8Array, blob: Uint8Array): Uint8Array | undefined {
  if (blob.length < 12 + 16) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(ATTACHMENT_AAD);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return new Uint8Array(Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]));
  } catch {
    return undefined;
  }
}

export async function runSottoProviderCompromise(): Promise<SottoProviderCompromiseEvidence> {
  const world = await SottoWorld.create();
  try {
    const { alice, bob } = await typicalConversation(world);
    const queuedText = 'Last one before I fly: the backup key is under the blue vase.';
    await alice.client.sendText(bob.username, queuedText); //      stored on the server; bob has not fetched it
    world.said.push({ from: alice.username, to: bob.username, text: queuedText });
    const aliceKey = (await bob.client.contacts()).find((c) => c.username === alice.username)?.identityKey;

    // The provider falls: its disk and the recording are mallory's.
    const loot = await dumpServerData(world.dataDir, join(world.dir, 'mallory-loot'));
    const records = world.proxy.records;
    const blobs = [...loot.blobs, ...recordedBlobs(records)];
    const secrets = [...world.said.map((s) => s.text), SECRET_FILE.text];
    const inClear = secrets.filter((t) => occursIn(blobs, t));

    const envelopes: RecordedEnvelope[] = [...recordedEnvelopes(records)];
    const known = new Set(envelopes.map((e) => Buffer.from(e.envelope).toString('base64')));
    for (const b of loot.blobs) {
      if (b[0] === 0x01 && b[1] === 0x04 && isSealedBucket(b.length) && !known.has(Buffer.from(b).toString('base64'))) {
        envelopes.push({ id: 'db', envelope: b, recipient: undefined, seenIn: 'fetch', n: -1 });
      }
    }
    const candidates = candidateSecrets(blobs);
    const everything = await harvestValues(fastProvider, [], [...blobs, ...candidates]);
    const attempt = await tryStolenKeys(fastProvider, systemRng, everything, envelopes, Date.now());
    const decrypted = secrets.filter((t) => attempt.plaintexts.some((p) => p.text.includes(t)));

    const attachments = records.flatMap((r) => (r.kind === 'http' && r.method === 'POST' && r.path === '/v1/attachments' ? [r.requestBody] : []));
    const attachmentHits = attachments.filter((blob) => candidates.some((k) => aesGcmOpen(k, blob) !== undefined)).length;

    const stored = new Set(candidates.map((c) => Buffer.from(c).toString('hex')));
    const privateKeysHeld = everything.identities.filter((id) => stored.has(Buffer.from(id.publicKey).toString('hex'))).length;

    const queueRows = loot.tables.flatMap((t) => t.rows.filter((row) => row.some((v) => v instanceof Uint8Array && v[0] === 0x01 && v[1] === 0x04 && isSealedBucket(v.length))));
    const namesSender = (row: readonly unknown[]): boolean =>
      row.some((v) => (typeof v === 'string' && v === alice.username) || (v instanceof Uint8Array && aliceKey !== undefined && Buffer.from(v).includes(Buffer.from(aliceKey))));
    const queueRowsNamingSender = queueRows.filter(namesSender).length;

    const bobsOwn = await harvestKeystore(fastProvider, bob.home, bob.passphrase);
    const control = await tryStolenKeys(fastProvider, systemRng, bobsOwn, envelopes.filter((e) => e.id === 'db' || e.recipient === bob.username), Date.now());
    const controlPlaintexts = control.plaintexts.filter((p) => p.text.includes(queuedText)).length;

    const recovered = new Set([...inClear, ...decrypted]);
    const outcome = recovered.size > 0 || attachmentHits > 0 || privateKeysHeld > 0 ? 'compromised' : 'resisted';
    const rows = loot.tables.reduce((n, t) => n + t.rows.length, 0);
    const detail =
      outcome === 'resisted'
        ? `Dumped ${loot.tables.length} tables (${rows} rows) of the server's SQLite files and ${records.length} recorded exchanges; none of the ${secrets.length} secrets appears in them. ` +
          `${candidates.length} candidate 32-byte secrets from all of it opened ${attempt.opened} of ${envelopes.length} envelopes (${describeFailures(attempt.failures)}) and ${attachmentHits} of ${attachments.length} attachments; ` +
          `the server holds no private key (${privateKeysHeld}). A message still queued stayed sealed; its queue row names the recipient and time, ${queueRowsNamingSender === 0 ? 'not the sender' : 'AND THE SENDER'}. ` +
          `Control: bob's own keys read it (${controlPlaintexts}).`
        : `Recovered ${recovered.size} of ${secrets.length} secrets, ${attachmentHits} attachments; server-held private keys: ${privateKeysHeld}.`;
    return {
      outcome, detail, tablesDumped: loot.tables.length, rowsDumped: rows, envelopesAttacked: envelopes.length, candidateSecrets: candidates.length, secretsWritten: secrets.length,
      secretsRecovered: recovered.size, envelopesOpened: attempt.opened, attachmentsOpened: attachmentHits, privateKeysHeld, queueRowsNamingSender, queueRows: queueRows.length, controlPlaintexts,
    };
  } finally {
    await world.close();
  }
}

export const sottoProviderCompromise: Scenario = { attack: 'provider-compromise', system: 'Sotto', run: runSottoProviderCompromise };
