// Resource bounds of the sotto command, each with a one-line why (STYLE.md §3).

/** Longest `receive --wait`, in seconds (one day): a longer wait is a daemon, not a command. */
export const MAX_WAIT_SECONDS = 86_400;

/** Largest file `send-file` reads (32 MiB, the server's MAX_ATTACHMENT_BYTES, docs/protocol/09 §9.10):
 *  the whole file is held in memory to be encrypted, and anything larger could not be uploaded. */
export const MAX_SEND_FILE_BYTES = 32 * 1024 * 1024;

/** Longest passphrase typed at the prompt, in characters: far beyond a human passphrase, and the
 *  keystore refuses more than 1024 UTF-8 bytes anyway (client limits.MAX_PASSPHRASE_BYTES). */
export const MAX_PASSPHRASE_CHARS = 1024;

/** Longest file name `receive` writes, in UTF-8 bytes: below the 255-byte NAME_MAX of common file
 *  systems, leaving room for the "-N" suffix that avoids overwriting an existing file. */
export const MAX_SAVED_NAME_BYTES = 200;

/** Most "-N" suffixes tried before giving up on a free file name: beyond this the directory is full
 *  of copies (or an attacker is racing us) and the user should choose another --save-dir. */
export const MAX_NAME_SUFFIX = 9_999;

/** Largest --play WAV file `call` / `answer` read (64 MiB, about 11 minutes of 48 kHz 16-bit stereo):
 *  the whole file is decoded into memory before the call starts. */
export const MAX_PLAY_WAV_BYTES = 64 * 1024 * 1024;

/** Longest `call` / `answer --duration`, in seconds (one day), like --wait: a longer call is a daemon. */
export const MAX_CALL_SECONDS = 86_400;

/** Longest `answer --wait` for an incoming call, in seconds (one day). */
export const MAX_ANSWER_WAIT_SECONDS = 86_400;

/** Most PCM bytes a --record WAV holds: a RIFF size field is 32 bits, so a WAV stops at 4 GiB
 *  (about 12 hours of 48 kHz mono); the recording stops there and the call goes on. */
export const MAX_RECORD_DATA_BYTES = 0xffff_ffff - 36;

/** Longest silence a recording fills in for lost or late packets, in samples (1 s at 48 kHz): a
 *  larger jump of the RTP timestamp is a new talk spurt after a pause, not loss, and is not padded. */
export const MAX_RECORD_GAP_SAMPLES = 48_000;

/** Longest `call --ring`, in seconds: the SDK gives up at CALL_RING_TIMEOUT_MS (45 s, docs/protocol/11
 *  §11.6) whatever the CLI says, so the option can only shorten the ring. Also the default. */
export const MAX_RING_SECONDS = 45;
