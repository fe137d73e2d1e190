// Files in and out. A received file's name is chosen by its sender — an untrusted party — so it is
// reduced to a plain name inside the save directory (never a path: no traversal, no absolute path,
// no hidden file, no device name) and written with O_CREAT|O_EXCL, which neither overwrites an
// existing file nor follows a symbolic link planted under that name; a taken name gets a "-N"
// suffix. docs/protocol/10 §10.2 already forbids "/", "\", NUL and a leading "." in a FILE name;
// this is the receiving side not relying on the sender's client to have obeyed.
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { CliError } from '../errors.ts';
import { MAX_NAME_SUFFIX, MAX_SAVED_NAME_BYTES, MAX_SEND_FILE_BYTES } from '../limits.ts';

// C0/C1 controls, DEL, the separators of every platform, characters Windows refuses, and invisible
// or direction-changing characters that make a name look like something it is not.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\:*?"<>|\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// Names Windows reserves for devices, with any extension ("nul.txt" is the device too).
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** Truncates to at most `max` UTF-8 bytes on a character boundary. */
function truncateUtf8(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (utf8Length(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/** A name that is safe to create inside a directory, derived from an untrusted one. */
export function safeFileName(name: string): string {
  // The last component under either separator: "../../.ssh/authorized_keys" → "authorized_keys".
  let s = name.split(/[/\\]/).pop() ?? '';
  // Lone surrogates (possible in JSON text) would be written as U+FFFD by the file system layer.
  s = s.replace(/\p{Cs}/gu, '_').normalize('NFC').replace(UNSAFE, '_');
  // No hidden files and no "." or ".."; Windows also drops trailing dots and spaces.
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (RESERVED.test(s)) s = `_${s}`;
  if (utf8Length(s) > MAX_SAVED_NAME_BYTES) {
    const ext = extname(s);
    const keep = ext.length > 1 && utf8Length(ext) <= 16 ? ext : '';
    s = truncateUtf8(s.slice(0, s.length - keep.length), MAX_SAVED_NAME_BYTES - utf8Length(keep)) + keep;
  }
  return s === '' ? 'file' : s;
}

/** "report.pdf", n → "report-n.pdf" (n = 0: unchanged). */
export function withSuffix(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}-${n}${ext}`;
}

/** Writes `bytes` under a safe form of `name` in `dir` (created, owner-only, if missing) without
 *  overwriting anything; returns the path written. ERR_CLI_SAVE when that is impossible. */
export async function saveUnique(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError('ERR_CLI_SAVE', `cannot create the save directory ${dir} (${errno(e)})`, { cause: e });
  }
  const base = safeFileName(name);
  for (let n = 0; n <= MAX_NAME_SUFFIX; n++) {
    const path = join(dir, withSuffix(base, n));
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (e) {
      if (errno(e) === 'EEXIST') continue;
      throw new CliError('ERR_CLI_SAVE', `cannot create ${path} (${errno(e)})`, { cause: e });
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (e) {
      throw new CliError('ERR_CLI_SAVE', `cannot write ${path} (${errno(e)})`, { cause: e });
    } finally {
      await handle.close();
    }
    return path;
  }
  throw new CliError('ERR_CLI_SAVE', `no free name for ${base} in ${dir} after ${MAX_NAME_SUFFIX} tries`);
}

/** A file to send: its bytes, a name safe to announce, and a MIME type from its extension. */
export interface FileToSend {
  readonly name: string;
  readonly mime: string;
  readonly bytes: Uint8Array;
}

export async function readFileToSend(path: string): Promise<FileToSend> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new CliError('ERR_CLI_FILE', `${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('ERR_CLI_FILE', `cannot read ${path} (${errno(e)})`, { cause: e });
  }
  if (size > MAX_SEND_FILE_BYTES) throw new CliError('ERR_CLI_FILE', `${path} has ${size} bytes; at most ${MAX_SEND_FILE_BYTES} can be sent`);
  if (size === 0) throw new CliError('ERR_CLI_FILE', `${path} is empty`);
  let bytes: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      bytes = new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new CliError('ERR_CLI_FILE', `cannot read ${path} (${errno(e)})`, { cause: e });
  }
  // The file may have grown between stat and read.
  if (bytes.length > MAX_SEND_FILE_BYTES) throw new CliError('ERR_CLI_FILE', `${path} grew beyond ${MAX_SEND_FILE_BYTES} bytes while it was read`);
  const name = safeFileName(basename(path));
  return { name, mime: mimeType(name), bytes };
}

const MIME: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/opus',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** The MIME type for a file name's extension; application/octet-stream when unknown. Informational
 *  only: the receiver never opens a file because of it. */
export function mimeType(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

function errno(e: unknown): string {
  const code: unknown = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'I/O error';
}
