// The only host (platform) APIs the protocol core may use. They exist in Node >= 20 and in every
// current browser; anything else (I/O, clocks, node: modules) is injected by the caller.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
