#!/usr/bin/env node
// The `sotto` executable. It registers tsx's ESM loader inside this process (one Node process, so
// signals reach the server directly and start-up stays fast) and runs src/main.ts. Works from any
// working directory: both paths below are resolved from this file, not from the cwd.
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The repository's strict tsconfig, as `node --import tsx` from the root would use it; a tsconfig in
// whatever directory the user runs sotto from must not change how Sotto is compiled.
const tsconfig = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });

const { main } = await import('../src/main.ts');
const status = await main(process.argv.slice(2));
// Exit explicitly: a command is done when main() resolves, even if a library left a timer behind.
process.exit(status);
