// Loads published test vectors from ../shared/vectors beside the repository (STYLE.md §11).
// A missing file throws: a vector test never skips silently.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Absolute path of a file under ../shared/vectors (or $SOTTO_VECTORS). */
export function vectorPath(relative: string): string {
  const base = process.env.SOTTO_VECTORS ?? join(repoRoot, '..', 'shared', 'vectors');
  const p = join(base, relative);
  if (!existsSync(p)) throw new Error(`test vector file missing: ${p} (the vectors live in ../shared/vectors beside the repository)`);
  return p;
}

/** Parsed JSON of a vector file. */
export function loadVectors<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(vectorPath(relative), 'utf8')) as T;
}
