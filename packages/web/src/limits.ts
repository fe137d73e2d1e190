// Resource bounds of the web client, each with a one-line why (STYLE.md §3).

/** Messages kept per conversation in the local history: enough to scroll back through a long chat,
 *  while one conversation's encrypted record stays small enough to rewrite on every change. */
export const MAX_HISTORY_MESSAGES = 2_000;

/** Largest received image shown inline without asking: fetched and decrypted as soon as it arrives,
 *  so it must not cost a phone's memory; larger images get a download button like other files. */
export const MAX_INLINE_IMAGE_BYTES = 8 * 1024 * 1024;

/** Largest file offered for sending (32 MiB, the server's MAX_ATTACHMENT_BYTES, docs/protocol/09
 *  §9.10): the whole file is read into memory to be encrypted, and anything larger cannot be uploaded. */
export const MAX_SEND_FILE_BYTES = 32 * 1024 * 1024;

/** Width of the camera frame the QR scanner decodes, in pixels: a code held up to the camera is
 *  readable at this size, and jsQR's time grows with the pixel count. */
export const SCAN_FRAME_WIDTH = 640;

/** Pause between two decode attempts while scanning, in ms: about 6 frames a second finds a code
 *  quickly without keeping a phone's CPU busy. */
export const SCAN_INTERVAL_MS = 150;

/** Characters of the last message shown under a contact in the conversation list. */
export const PREVIEW_CHARS = 80;

/** Pause between two checks whether the server is back while a connection problem is shown, in ms:
 *  the notice goes within seconds of the server answering, at one small request per interval. */
export const HEALTH_PROBE_MS = 5_000;

/** Longest voicemail the recorder takes, in ms (docs/protocol/11 §11.6 leaves it to the client): a
 *  minute is what a voicemail is for, and keeps the attachment around 250 KB of Opus. */
export const MAX_VOICEMAIL_RECORDING_MS = 60_000;
