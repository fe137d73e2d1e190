// docs/protocol/09 §9.10: GET /metrics — Prometheus text format 0.0.4, counts only (internal/metrics.ts).
import type { Handler } from '../internal/context.ts';

export const metrics: Handler = (ctx) =>
  Promise.resolve(new Response(ctx.app.metrics.render(), { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' } }));
