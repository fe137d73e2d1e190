// A bare page around one BrowserCallMedia (src/calls/media.ts) with its real frame-encryption worker,
// for the media-level call test (test/browser-call-media.test.ts): the test drives the key agreement
// in Node and moves SDPs and keys between two such pages, so the media layer is checked on its own,
// without accounts or a server. Bundled by test-support's bundleForBrowser; the worker is bundled next
// to it as /sframe-worker.js.
import { BrowserCallMedia, type CallMediaStats } from '../../src/calls/media.ts';

interface Key {
  readonly kid: number;
  readonly baseKey: number[];
}

export interface CallLab {
  open(opts: { wrongReceiveKey?: boolean }): Promise<void>;
  createOffer(): Promise<string>;
  acceptOffer(sdp: string): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  setKeys(keys: { send: Key; receive: Key }): Promise<void>;
  stats(): Promise<CallMediaStats>;
  close(): void;
}

const audio = document.createElement('audio');
audio.id = 'remote';
document.body.append(audio);
let media: BrowserCallMedia | undefined;

function opened(): BrowserCallMedia {
  if (media === undefined) throw new Error('expected lab.open() first');
  return media;
}

const lab: CallLab = {
  async open(opts) {
    media = await BrowserCallMedia.open({
      audio,
      createWorker: () => new Worker('/sframe-worker.js', { type: 'module' }),
      ...(opts.wrongReceiveKey === true ? { testWrongReceiveKey: true } : {}),
    });
  },
  createOffer: () => opened().createOffer(),
  acceptOffer: (sdp) => opened().acceptOffer(sdp),
  acceptAnswer: (sdp) => opened().acceptAnswer(sdp),
  setKeys: (keys) =>
    opened().setKeys({
      send: { kid: keys.send.kid, baseKey: Uint8Array.from(keys.send.baseKey) },
      receive: { kid: keys.receive.kid, baseKey: Uint8Array.from(keys.receive.baseKey) },
    }),
  stats: () => opened().stats(),
  close: () => {
    opened().close();
  },
};
(globalThis as unknown as { lab: CallLab }).lab = lab;
