// Entry of the SQLite writer thread (sqlite-worker.ts starts it; internal/sqlite-writer.ts is the
// thread's code). Plain JavaScript, because a worker thread cannot start from TypeScript by itself:
// on Node 20 the loader hooks of the parent's `--import tsx` (or of the CLI's tsx register()) belong to
// the thread that registered them, and a new thread given a .ts file fails with "Unknown file
// extension". So this file compiles the writer with tsx itself, through tsx's CommonJS hook: it runs
// in this thread, where tsx's ESM register() would start one more loader thread per writer, which
// doubles the writer's start-up time (~300 ms instead of ~150 ms, measured) for nothing.
//
// The repository's strict tsconfig, as bin/sotto.mjs picks it: a tsconfig in the directory the
// server runs from must not change how Sotto is compiled. (The variable is this thread's copy of the
// environment; the parent's is not changed.)
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, URL } from 'node:url';

const require = createRequire(import.meta.url);
const tsconfig = fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url));
if (existsSync(tsconfig)) process.env.TSX_TSCONFIG_PATH = tsconfig;
require('tsx/cjs/api').register();
require('./sqlite-writer.ts');
