// Help texts: `sotto --help`, `sotto help <command>` and `sotto <command> --help`. The usage lines are
// issue 3's, word for word; the parser (args.ts) accepts exactly these.
import type { CommandName } from './args.ts';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SERVER_URL, TURN_SECRET_ENV } from './args.ts';
import { MAX_ANSWER_WAIT_SECONDS, MAX_CALL_SECONDS, MAX_RING_SECONDS, MAX_WAIT_SECONDS } from '../limits.ts';

const GLOBALS = `Global options (before or after the command):
  --home DIR     the account's keystore directory (default: $SOTTO_HOME, else ~/.sotto)
  --server URL   the server (default: $SOTTO_SERVER, else the one registered with; ${DEFAULT_SERVER_URL} for register)
  -h, --help     show help

The passphrase that unlocks the keystore comes from $SOTTO_PASSPHRASE, else it is asked for
(without echo) when a terminal is attached.`;

const HELP: Readonly<Record<Exclude<CommandName, 'help'>, string>> = {
  serve: `Usage: sotto serve [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--data DIR] [--database URL] [--turn-url URL ...] [--turn-secret SECRET]

Runs the Sotto server: an untrusted relay and prekey directory. Prints "sotto: listening on <url>"
once it accepts connections; stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
  --host HOST      address to listen on (default ${DEFAULT_HOST})
  --port N         port to listen on; 0 picks a free one (default ${DEFAULT_PORT})
  --data DIR       directory of the embedded SQLite database, created if missing (default ./${DEFAULT_DATA_DIR})
  --database URL   use PostgreSQL instead (postgres://user@host/db)
  --turn-url URL   a TURN server for calls, e.g. turn:turn.example.org:3478?transport=udp; repeat
                   for more (coturn with use-auth-secret: devices get hour-long credentials)
  --turn-secret S  coturn's static-auth-secret; prefer $${TURN_SECRET_ENV}, since other users can
                   read a command line in ps. Both or neither with --turn-url`,
  register: `Usage: sotto [--home DIR] [--server URL] register <username>

Creates an account on the server: generates your identity key and prekeys, registers the
username (3 to 32 characters a-z, 0-9 and _, starting with a letter) and stores everything in a
new keystore in --home, encrypted under your passphrase.`,
  send: `Usage: sotto [--home DIR] send <username> <text>

Sends an end-to-end encrypted message. Quote text with spaces; put -- before text that starts
with "-". Refused while the contact's key has changed, verified before or not, until you verify
the new key ('sotto verify') or accept it ('sotto trust').`,
  'send-file': `Usage: sotto [--home DIR] send-file <username> <path>

Encrypts the file on this machine, uploads the encrypted blob and sends its key in a message.`,
  receive: `Usage: sotto [--home DIR] receive [--wait <seconds>] [--json] [--save-dir DIR]

Fetches the messages waiting on the server, then (with --wait) keeps listening until nothing new
arrived for that many seconds (at most ${MAX_WAIT_SECONDS}) or Ctrl-C.
  --wait S        keep listening while messages arrive, stop after S idle seconds (default 0)
  --json          one JSON object per line: kind, from, id, sentAt, text or file, senderState
  --save-dir DIR  where received files are saved (default: <home>/files); never overwrites`,
  contacts: `Usage: sotto [--home DIR] contacts [--json]

Lists your contacts with their trust state: unverified (first use), verified (and how), or
changed (the server showed a different key: check before you trust it again).
  --json   one JSON array`,
  'safety-number': `Usage: sotto [--home DIR] safety-number <username>

Shows the 60-digit safety number of you and the contact, and the same as a QR code. Compare it
with the contact's screen in person or on a call; if it matches, run 'sotto verify'.`,
  verify: `Usage: sotto [--home DIR] verify <username> <safety-number>

Marks the contact verified when the 60 digits (spaces allowed) equal the safety number of the
contact's current key.`,
  trust: `Usage: sotto [--home DIR] trust <username> --accept-new-key

Accepts a contact's changed key without verifying it: the contact becomes unverified with the
new key, and sending is allowed again. Verify it with 'sotto safety-number' when you can.`,
  call: `Usage: sotto [--home DIR] call <username> [--play in.wav] [--record out.wav] [--duration <s>] [--ring <s>] [--voicemail in.wav]

Places an end-to-end encrypted voice call (a fresh key agreement for the call, every audio frame
encrypted with SFrame) and runs it until --duration seconds after it connected, until the other
side hangs up, or until Ctrl-C. When connected it prints on stdout
  SAS: <word> <word> (<code>) — read it aloud and compare
and asks "Do the words match? [y/n]". Read the two words to each other: answer y if they are the
same (the contact becomes verified: words compared in a call), n if not (someone may be
intercepting the call: it ends on both sides, and the command fails). From a pipe, the answer is
the next line read after the SAS line; no answer confirms nothing. Call states go to stderr.
Fails with one line if the call is declined, busy, not answered or fails.
  --play FILE      send this WAV (16-bit PCM, mono or stereo, any rate: resampled to 48 kHz),
                   then silence (default: silence)
  --record FILE    write what the other side says (decrypted) to this WAV (mono, 48 kHz)
  --duration S     hang up S seconds after the call connected (at most ${MAX_CALL_SECONDS})
  --ring S         give up after S seconds without an answer (1 to ${MAX_RING_SECONDS}; default ${MAX_RING_SECONDS})
  --voicemail FILE if the call is not answered, declined or busy, send this WAV (same formats as
                   --play, at most one hour) as a voicemail (Ogg Opus) instead of failing`,
  answer: `Usage: sotto [--home DIR] answer [--play in.wav] [--record out.wav] [--duration <s>] [--wait <s>]

Waits for the next incoming call and accepts it, then runs it like 'sotto call' (same SAS line
and question, options and endings). Other calls that ring meanwhile are declined.
  --wait S         give up when no call rang within S seconds (at most ${MAX_ANSWER_WAIT_SECONDS};
                   default: wait until Ctrl-C)
  --play FILE, --record FILE, --duration S   as for 'sotto call'`,
};

export function helpText(topic: CommandName | undefined): string {
  if (topic !== undefined && topic !== 'help') return `${HELP[topic]}\n\n${GLOBALS}`;
  return `Sotto: end-to-end encrypted messaging.

Usage:
  sotto serve [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--data DIR] [--database URL] [--turn-url URL ...] [--turn-secret SECRET]
  sotto [--home DIR] [--server URL] register <username>
  sotto [--home DIR] send <username> <text>
  sotto [--home DIR] send-file <username> <path>
  sotto [--home DIR] receive [--wait <seconds>] [--json] [--save-dir DIR]
  sotto [--home DIR] contacts [--json]
  sotto [--home DIR] safety-number <username>
  sotto [--home DIR] verify <username> <safety-number>
  sotto [--home DIR] trust <username> --accept-new-key
  sotto [--home DIR] call <username> [--play in.wav] [--record out.wav] [--duration <s>] [--ring <s>] [--voicemail in.wav]
  sotto [--home DIR] answer [--play in.wav] [--record out.wav] [--duration <s>] [--wait <s>]
  sotto help <command>

${GLOBALS}`;
}
