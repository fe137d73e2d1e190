// The load generator's HTTP client: node:http over a keep-alive socket pool (much cheaper per request
// than fetch, so the client side steals less of the two shared vCPUs from the server it measures).
// Requests beyond the pool's sockets wait in the agent's queue, as they would in a browser's pool.
import { Agent, request } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  /** The first attempt died on a reused keep-alive socket and the request was sent again. */
  readonly retried: boolean;
}

/** Idle sockets are dropped after this long: before node:http's server closes them (keepAliveTimeout,
 *  5 s), so a request is not sent on a socket the server is closing at that very moment. */
const FREE_SOCKET_TIMEOUT_MS = 4000;

export class HttpClient {
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;

  /** `baseUrl` is http://127.0.0.1:<port> (loopback only). */
  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') throw new Error(`expected http://127.0.0.1:<port>, got ${baseUrl}`);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo', timeout: FREE_SOCKET_TIMEOUT_MS });
  }

  /**
   * One request. A reused keep-alive socket that the server closed just as it was picked up is the
   * one failure retried (once, on a new socket), as Node's documentation advises; every request the
   * bench sends is idempotent (a send's message id makes a repeat a no-op, §9.7).
   */
  async call(method: string, path: string, headers: Readonly<Record<string, string>>, body?: string): Promise<HttpAnswer> {
    try {
      return await this.#once(method, path, headers, body, false);
    } catch (e) {
      if ((e as { reusedSocket?: unknown }).reusedSocket !== true || (e as { code?: unknown }).code !== 'ECONNRESET') throw e;
      return this.#once(method, path, headers, body, true);
    }
  }

  #once(method: string, path: string, headers: Readonly<Record<string, string>>, body: string | undefined, retried: boolean): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const all: Record<string, string | number> = { ...headers, 'content-length': body === undefined ? 0 : Buffer.byteLength(body) };
      const req = request({ agent: this.#agent, host: this.#host, port: this.#port, method, path, headers: all }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retried });
        });
        res.on('error', reject);
      });
      req.on('error', (e) => {
        reject(Object.assign(e, { reusedSocket: req.reusedSocket }));
      });
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Throws unless the answer has `status`; returns its body. */
export function expectStatus(answer: HttpAnswer, status: number, what: string): string {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer.body;
}
