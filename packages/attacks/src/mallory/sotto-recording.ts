// Mallory's analysis of what it holds against Sotto: the proxy's recording of every request, response and
// WebSocket frame (src/mallory/proxy.ts) and, in a provider compromise, a copy of the server's database files.
// Everything is read the way an attacker would: generically (every table, every row, every field), without
// trusting the server's own description of what it stores.
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeSendMessageRequest, decodeServerFrame, decodeFetchResponse } from '@sotto/protocol';
import type { Recorded } from './proxy.ts';

/** A sealed envelope found in the recording, with where it was seen. */
export interface RecordedEnvelope {
  /** The queue / message id (base64url), as the server and the recipient see it. */
  readonly id: string;
  readonly envelope: Uint8Array;
  /** The recipient named in the request path, when the envelope was seen in a send. */
  readonly recipient: string | undefined;
  readonly seenIn: 'send' | 'push' | 'fetch';
  /** The recording entry it came from. */
  readonly n: number;
}

const SEND_PATH = /^\/v1\/messages\/([a-z0-9_]+)\/(\d+)$/;

/** Every distinct sealed envelope the proxy saw: sends (PUT), WebSocket pushes and fetch responses. */
export function recordedEnvelopes(records: readonly Recorded[]): RecordedEnvelope[] {
  const out: RecordedEnvelope[] = [];
  const seen = new Set<string>();
  const add = (e: RecordedEnvelope): void => {
    const key = `${e.id}:${Buffer.from(e.envelope).toString('base64')}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  for (const r of records) {
    try {
      if (r.kind === 'http') {
        const path = r.path.split('?')[0] ?? '';
        const send = SEND_PATH.exec(path);
        if (r.method === 'PUT' && send !== null) {
          const body = decodeSendMessageRequest(r.requestBody);
          add({ id: Buffer.from(body.id).toString('base64url'), envelope: body.envelope, recipient: send[1], seenIn: 'send', n: r.n });
        } else if (r.method === 'GET' && path === '/v1/messages' && r.status === 200) {
          for (const m of decodeFetchResponse(r.responseBody).messages) add({ id: Buffer.from(m.id).toString('base64url'), envelope: m.envelope, recipient: undefined, seenIn: 'fetch', n: r.n });
        }
      } else if (r.direction === 'to-client' && !r.injected) {
        const frame = decodeServerFrame(r.data);
        if (frame.type === 'message') add({ id: Buffer.from(frame.id).toString('base64url'), envelope: frame.envelope, recipient: undefined, seenIn: 'push', n: r.n });
      }
    } catch {
      // a body that is not one of these messages (an error answer, a malformed request): nothing to take
    }
  }
  return out;
}

/** Every byte string in the recording: bodies, frames, and header values. */
export function recordedBlobs(records: readonly Recorded[]): Uint8Array[] {
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  for (const r of records) {
    if (r.kind === 'http') {
      out.push(r.requestBody, r.responseBody, enc.encode(`${r.method} ${r.path}`));
      for (const v of [...Object.values(r.requestHeaders), ...Object.values(r.responseHeaders)]) out.push(enc.encode(v));
    } else {
      out.push(r.data);
    }
  }
  return out;
}

const B64URL_RUN = /[A-Za-z0-9_-]{16,}/g;
const HEX_RUN = /\b(?:[0-9a-f]{2}){16,}\b/g;

/**
 * Everything an attacker can get out of a blob by decoding: the blob itself, and every base64url or hex run
 * inside its text decoded to bytes (JSON fields, headers, database text columns).
 */
export function decodedViews(blob: Uint8Array): Uint8Array[] {
  const views = [blob];
  const text = Buffer.from(blob).toString('latin1');
  for (const m of text.matchAll(B64URL_RUN)) views.push(new Uint8Array(Buffer.from(m[0], 'base64url')));
  for (const m of text.matchAll(HEX_RUN)) views.push(new Uint8Array(Buffer.from(m[0], 'hex')));
  return views;
}

/** Whether `needle` (UTF-8) occurs in any view of any blob. */
export function occursIn(blobs: readonly Uint8Array[], needle: string): boolean {
  const n = Buffer.from(needle, 'utf8');
  return blobs.some((b) => decodedViews(b).some((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).includes(n)));
}

/** Every distinct 32-byte value in the blobs' decoded views (candidate secrets: seeds, scalars, keys). */
export function candidateSecrets(blobs: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const b of blobs) {
    for (const v of decodedViews(b)) {
      if (v.length !== 32) continue;
      const k = Buffer.from(v).toString('hex');
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

/** One table of a dumped database. */
export interface DumpedTable {
  readonly file: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/**
 * Copies every file of the server's data directory to `into` (as a thief with disk access would, the WAL
 * included) and dumps every table of every SQLite database among them, every row, every column.
 */
export async function dumpServerData(dataDir: string, into: string): Promise<{ files: string[]; tables: DumpedTable[]; blobs: Uint8Array[] }> {
  await mkdir(into, { recursive: true });
  const files = await filesUnder(dataDir);
  const copies: string[] = [];
  for (const f of files) {
    if (f.endsWith('-shm')) continue; //                                     SQLite rebuilds the WAL index from the WAL itself
    const to = join(into, f.slice(dataDir.length).replace(/^[\\/]+/, '').replace(/[\\/]/g, '_'));
    await copyFile(f, to);
    copies.push(to);
  }
  const tables: DumpedTable[] = [];
  const blobs: Uint8Array[] = [];
  const databases: string[] = [];
  for (const copy of copies) {
    const raw = new Uint8Array(await readFile(copy));
    blobs.push(raw); //                                                     the raw file bytes (free pages, WAL frames too)
    if (Buffer.from(raw.subarray(0, SQLITE_MAGIC.length)).equals(SQLITE_MAGIC)) databases.push(copy);
  }
  // Only now open them: opening a database checkpoints its WAL into it (and removes the WAL file).
  for (const copy of databases) {
    const db = new Database(copy, { fileMustExist: true });
    try {
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      for (const table of names) {
        const stmt = db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).raw(true);
        const columns = stmt.columns().map((c) => c.name);
        const rows = stmt.all() as unknown[][];
        tables.push({ file: copy, table, columns, rows });
        for (const row of rows) {
          for (const v of row) {
            if (v instanceof Uint8Array) blobs.push(new Uint8Array(v));
            else if (typeof v === 'string') blobs.push(new TextEncoder().encode(v));
          }
        }
      }
    } finally {
      db.close();
    }
  }
  return { files, tables, blobs };
}
