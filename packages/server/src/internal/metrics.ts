// Counters and gauges for GET /metrics (docs/protocol/09 §9.10), in Prometheus text format 0.0.4.
// Labels are route templates and status codes only: no username, address, id or key is ever a label
// or a value, so a scrape tells an operator how busy the server is and nothing about who uses it.

type CounterName =
  | 'messages_enqueued'
  | 'messages_duplicate'
  | 'messages_delivered'
  | 'messages_acknowledged'
  | 'messages_expired'
  | 'attachments_stored'
  | 'attachment_bytes'
  | 'attachments_expired'
  | 'prekey_bundles_fetched'
  | 'rate_limited'
  | 'websocket_connections_opened';

const HELP: Record<CounterName, string> = {
  messages_enqueued: 'Messages durably enqueued.',
  messages_duplicate: 'Sends of a message id the queue already held.',
  messages_delivered: 'Messages handed to a device (fetch pages and WebSocket pushes, re-deliveries included).',
  messages_acknowledged: 'Messages deleted on acknowledgement.',
  messages_expired: 'Messages deleted unacknowledged after the retention period.',
  attachments_stored: 'Attachments uploaded.',
  attachment_bytes: 'Bytes of attachments uploaded.',
  attachments_expired: 'Attachments deleted after the retention period.',
  prekey_bundles_fetched: 'Prekey bundles handed out.',
  rate_limited: 'Requests refused by a rate limit.',
  websocket_connections_opened: 'WebSocket connections authenticated.',
};

export class Metrics {
  readonly #requests = new Map<string, number>(); // `${method} ${route}\u0000${status}` → count
  readonly #counters = new Map<CounterName, number>();
  /** Live WebSocket connections (gauge), read when scraped. */
  liveConnections = 0;

  request(method: string, route: string, status: number): void {
    const key = `${method} ${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  add(name: CounterName, n = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + n);
  }

  get(name: CounterName): number {
    return this.#counters.get(name) ?? 0;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    lines.push('# HELP sotto_http_requests_total HTTP requests by route template and status.');
    lines.push('# TYPE sotto_http_requests_total counter');
    for (const [key, n] of [...this.#requests].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [route = '', status = ''] = key.split('\u0000');
      lines.push(`sotto_http_requests_total{route="${route}",status="${status}"} ${n}`);
    }
    for (const name of Object.keys(HELP) as CounterName[]) {
      lines.push(`# HELP sotto_${name}_total ${HELP[name]}`, `# TYPE sotto_${name}_total counter`, `sotto_${name}_total ${this.get(name)}`);
    }
    lines.push('# HELP sotto_websocket_connections Authenticated WebSocket connections now open.', '# TYPE sotto_websocket_connections gauge', `sotto_websocket_connections ${this.liveConnections}`);
    return `${lines.join('\n')}\n`;
  }
}
