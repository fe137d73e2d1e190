// @sotto/server — the public surface (STYLE.md §7). Everything not exported here is internal.
export { createApp, WEBSOCKET_PATH, type App, type AppDeps, type RequestInfo, type SweepResult } from './app.ts';
export { startServer, SQLITE_FILE, DEFAULT_WEB_DIR, type ServerOptions, type RunningServer } from './main.ts';
export { CONTENT_SECURITY_POLICY, type StaticFiles } from './routes/static.ts';
export type { WebSocketPeer, WebSocketSession } from './routes/ws.ts';
export { ServerError, isServerError, type ServerErrorCode } from './errors.ts';
export { mintTurnCredentials, TURN_CREDENTIAL_TTL_SECONDS, type TurnOptions } from './turn.ts';
export { silentLogger, jsonLogger, type Logger, type LogLevel, type LogFields } from './logger.ts';
export * as limits from './limits.ts';
export { DEFAULT_LIMITS, DEFAULT_RATE_LIMITS, type ServerLimits, type RateLimitSettings, type TokenBucketSettings } from './limits.ts';
