// The `ws` package as a WebSocketFactory, for Node versions without a global WebSocket (Node 20).
// Only @sotto/client/node exports it, so browser bundles never see `ws`.
import { WebSocket } from 'ws';
import type { WebSocketFactory, WebSocketLike } from './websocket.ts';

/** Opens a WebSocket with the `ws` package (same events and methods as the WHATWG one the SDK uses). */
export const nodeWebSocket: WebSocketFactory = (url) => new WebSocket(url) as unknown as WebSocketLike;
