// Saving received files (src/internal/files.ts): the sender chooses the name, so it must never
// escape the save directory, hide, overwrite, or follow a planted link; reading a file to send is
// bounded and fails clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { mimeType, readFileToSend, safeFileName, saveUnique, withSuffix } from '../src/internal/files.ts';
import { isCliError } from '../src/errors.ts';
import { MAX_SAVED_NAME_BYTES } from '../src/limits.ts';

const utf8 = (s: string): number => new TextEncoder().encode(s).length;

test('safeFileName: path components, hidden names, controls, reserved and disguising characters', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['../../.ssh/authorized_keys', 'authorized_keys'],
    ['..\\..\\Windows\\system32\\evil.dll', 'evil.dll'],
    ['/etc/passwd', 'passwd'],
    ['..', 'file'],
    ['.', 'file'],
    ['', 'file'],
    ['.bashrc', 'bashrc'],
    ['...hidden', 'hidden'],
    ['trailing. . ', 'trailing'],
    ['a\u0000b\u001bc\u007fd\u009be', 'a_b_c_d_e'],
    ['photo\u202egpj.exe', 'photo_gpj.exe'],
    ['zero\u200bwidth', 'zero_width'],
    ['what?*<>|":.txt', 'what_______.txt'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['lpt1', '_lpt1'],
    ['console.log', 'console.log'],
    ['e\u0301t\u00e9.txt', '\u00e9t\u00e9.txt'],
    ['lone\ud800surrogate', 'lone_surrogate'],
  ];
  for (const [input, want] of cases) assert.equal(safeFileName(input), want, JSON.stringify(input));
  const long = `${'x'.repeat(300)}.tar.gz`;
  const cut = safeFileName(long);
  assert.ok(utf8(cut) <= MAX_SAVED_NAME_BYTES);
  assert.ok(cut.endsWith('.gz'), 'the extension survives truncation');
  const wide = safeFileName('€'.repeat(100));
  assert.ok(utf8(wide) <= MAX_SAVED_NAME_BYTES && !wide.includes('\ufffd'), 'truncated on a character boundary');
});

const corpus = corpusAt(new URL('corpus/', import.meta.url));

test('safeFileName (property): any name yields one plain, visible, bounded component', async () => {
  await corpus.check(
    'cli-safe-file-name',
    fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: fc.constantFrom('.', '/', '\\', ' ', 'a', '\u202e', '\ud800', '\udc00', 'e\u0301', '\u0000'), maxLength: 40 })),
    (name) => {
      const s = safeFileName(name);
      return (
        s.length > 0 &&
        // eslint-disable-next-line no-control-regex -- control characters are what must not be there
        !/[/\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s) &&
        !/\p{Cs}/u.test(s) &&
        !s.startsWith('.') &&
        s !== '..' &&
        utf8(s) <= MAX_SAVED_NAME_BYTES &&
        safeFileName(s) === s
      );
    },
    { numRuns: 2000 },
  );
});

test('saveUnique: never overwrites, never follows a planted link, stays in the directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-save-'));
  try {
    const inbox = join(dir, 'inbox');
    const a = await saveUnique(inbox, 'notes.txt', new TextEncoder().encode('one'));
    const b = await saveUnique(inbox, 'notes.txt', new TextEncoder().encode('two'));
    const c = await saveUnique(inbox, '../notes.txt', new TextEncoder().encode('three'));
    assert.deepEqual([a, b, c], [join(inbox, 'notes.txt'), join(inbox, 'notes-1.txt'), join(inbox, 'notes-2.txt')]);
    assert.equal(readFileSync(a, 'utf8'), 'one');
    assert.equal(readFileSync(b, 'utf8'), 'two');
    assert.equal(readFileSync(c, 'utf8'), 'three');
    assert.equal(statSync(inbox).mode & 0o777, 0o700, 'the save directory is created owner-only');
    assert.equal(statSync(a).mode & 0o777, 0o600, 'saved files are owner-only');
    // A symbolic link planted under the name the sender chose is not followed.
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(inbox, 'planted.txt'));
    const d = await saveUnique(inbox, 'planted.txt', new TextEncoder().encode('attack'));
    assert.equal(d, join(inbox, 'planted-1.txt'));
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(dir).sort(), ['inbox', 'victim'], 'nothing written outside the save directory');
    // A save directory that cannot be created is a clear ERR_CLI_SAVE.
    writeFileSync(join(dir, 'plainfile'), '');
    await assert.rejects(saveUnique(join(dir, 'plainfile', 'sub'), 'x', new Uint8Array(1)), (e: unknown) => isCliError(e, 'ERR_CLI_SAVE') && /cannot create the save directory/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withSuffix keeps the extension', () => {
  assert.equal(withSuffix('a.pdf', 0), 'a.pdf');
  assert.equal(withSuffix('a.pdf', 3), 'a-3.pdf');
  assert.equal(withSuffix('README', 1), 'README-1');
});

test('readFileToSend: bytes, a safe name, a MIME type; clear errors otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-read-'));
  try {
    const p = join(dir, '.Report.PDF');
    writeFileSync(p, 'pdf bytes');
    const f = await readFileToSend(p);
    assert.equal(f.name, 'Report.PDF', 'a leading dot is not announced (docs/protocol/10 §10.2)');
    assert.equal(f.mime, 'application/pdf');
    assert.equal(new TextDecoder().decode(f.bytes), 'pdf bytes');
    await assert.rejects(readFileToSend(join(dir, 'missing')), (e: unknown) => isCliError(e, 'ERR_CLI_FILE') && /ENOENT/.test(e.message));
    mkdirSync(join(dir, 'sub'));
    await assert.rejects(readFileToSend(join(dir, 'sub')), (e: unknown) => isCliError(e, 'ERR_CLI_FILE') && /not a regular file/.test(e.message));
    writeFileSync(join(dir, 'empty'), '');
    await assert.rejects(readFileToSend(join(dir, 'empty')), (e: unknown) => isCliError(e, 'ERR_CLI_FILE') && /is empty/.test(e.message));
    assert.equal(mimeType('x.unknown'), 'application/octet-stream');
    assert.equal(mimeType('song.OGG'), 'audio/ogg');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
