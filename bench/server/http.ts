// The load generator's HTTP client: HTTP/1.1 on a pool of raw keep-alive sockets (node:net). A request
// is written as one pre-serialised string (request line and headers prepared once per target, then the
// body and its Content-Length), and a response is parsed only as far as the bench needs: the status
// line, Content-Length and the body. node:http's client cost ~150 µs of the load generator's CPU per
// request here; this one costs a fraction of that, so that on a 2-vCPU machine the load generator
// steals less CPU from the server it measures (the relay's WebSocket client costs ~26 µs per send).
//
// Strict enough for the answers Sotto's server gives (node:http: a status line, headers, and always a
// Content-Length body): a chunked or length-less response, a malformed status line or header block,
// or bytes the client did not ask for fail the request (and the run) instead of being guessed at.
// One request per socket at a time (no pipelining); requests beyond the pool's sockets wait in a FIFO
// queue, as in node:http's Agent with `scheduling: 'fifo'` and in a browser's pool.
import { connect, type Socket } from 'node:net';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  /** The first attempt died on a reused keep-alive socket and the request was sent again. */
  readonly retried: boolean;
}

/** Idle sockets are dropped after this long: before node:http's server closes them (keepAliveTimeout,
 *  5 s), so a request is not sent on a socket the server is closing at that very moment. */
const FREE_SOCKET_TIMEOUT_MS = 4000;
/** The most header bytes a response may have (node:http's server sends ~150). */
const MAX_HEAD_BYTES = 16 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.1 (\d{3}) [^\r\n]*$/;
const DECIMAL = /^\d{1,15}$/;

/** A request line and headers, serialised once; `send` appends Content-Length and the body. */
export interface PreparedRequest {
  readonly head: string;
}

/** A request waiting for, or on, a socket. */
interface Job {
  readonly text: string;
  readonly resolve: (a: HttpAnswer) => void;
  readonly reject: (e: Error) => void;
  /** Whether this is the retry of a request that died on a reused socket. */
  retried: boolean;
}

/** One keep-alive connection and the parse state of the response it is waiting for. */
class Connection {
  readonly socket: Socket;
  /** Responses completed on this socket: a failure before the first byte of a later one is the
   *  "reused socket closed by the server" case. */
  served = 0;
  job: Job | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** Parsed head of the current response, once complete. */
  #status = 0;
  #bodyStart = -1;
  #bodyLength = 0;
  #close = false;
  idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  get gotBytes(): boolean {
    return this.#bytes > 0;
  }

  /** Feeds received bytes; returns the answer once the response is complete, else undefined. Throws on
   *  a response this client does not accept. */
  feed(chunk: Buffer): { status: number; body: string; close: boolean } | undefined {
    if (this.job === undefined) throw new Error('HTTP: bytes from the server with no request outstanding');
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    let all = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#bytes);
    if (this.#chunks.length > 1) this.#chunks = [all];
    if (this.#bodyStart < 0) {
      const end = all.indexOf(CRLFCRLF);
      if (end < 0) {
        if (this.#bytes > MAX_HEAD_BYTES) throw new Error(`HTTP: response head longer than ${MAX_HEAD_BYTES} bytes`);
        return undefined;
      }
      this.#parseHead(all.toString('latin1', 0, end));
      this.#bodyStart = end + 4;
    }
    const total = this.#bodyStart + this.#bodyLength;
    if (this.#bytes < total) return undefined;
    if (this.#bytes > total) throw new Error(`HTTP: ${this.#bytes - total} bytes after a response (no request was pipelined)`);
    all = this.#chunks[0] ?? all;
    const answer = { status: this.#status, body: all.toString('utf8', this.#bodyStart, total), close: this.#close };
    this.#chunks = [];
    this.#bytes = 0;
    this.#bodyStart = -1;
    this.#close = false;
    return answer;
  }

  #parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = STATUS_LINE.exec(lines[0] ?? '');
    if (m?.[1] === undefined) throw new Error(`HTTP: expected an HTTP/1.1 status line, got ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    this.#status = Number(m[1]);
    let length: number | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`HTTP: malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!DECIMAL.test(value) || length !== undefined) throw new Error(`HTTP: bad or repeated Content-Length ${JSON.stringify(value)}`);
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        throw new Error(`HTTP: Transfer-Encoding ${value} (this client reads Content-Length bodies only)`);
      } else if (name === 'connection') {
        this.#close = value.toLowerCase().split(/\s*,\s*/).includes('close');
      }
    }
    if (length === undefined) throw new Error('HTTP: a response without Content-Length');
    this.#bodyLength = length;
  }
}

export class HttpClient {
  readonly #host: string;
  readonly #port: number;
  readonly #maxSockets: number;
  /** Every open connection, and the idle ones in the order they became idle (FIFO reuse). */
  readonly #open = new Set<Connection>();
  #idle: Connection[] = [];
  readonly #queue: Job[] = [];
  #closed = false;

  /** `baseUrl` is http://127.0.0.1:<port> (loopback only). */
  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1' || url.pathname !== '/') throw new Error(`expected http://127.0.0.1:<port>, got ${baseUrl}`);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#maxSockets = maxSockets;
  }

  /** Serialises a request line and headers (names and values must be valid HTTP tokens / text). */
  prepare(method: string, path: string, headers: Readonly<Record<string, string>>): PreparedRequest {
    if (!/^[A-Z]+$/.test(method) || !/^\/[\x21-\x7e]*$/.test(path)) throw new Error(`bad request line ${method} ${path}`);
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (!/^[A-Za-z0-9-]+$/.test(name) || /[\r\n]/.test(value) || name.toLowerCase() === 'content-length') throw new Error(`bad header ${name}`);
      head += `${name}: ${value}\r\n`;
    }
    return { head };
  }

  /**
   * One request. A reused keep-alive socket that the server closed just as it was picked up (it
   * closes or resets before a byte of the answer arrived) is the one failure retried (once, on a new
   * socket), as Node's documentation advises for its own client; every request the bench sends is
   * idempotent (a send's message id makes a repeat a no-op, §9.7).
   */
  send(request: PreparedRequest, body = ''): Promise<HttpAnswer> {
    const text = `${request.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise<HttpAnswer>((resolve, reject) => {
      this.#dispatch({ text, resolve, reject, retried: false });
    });
  }

  /** prepare + send, for the requests that are not on the hot path (registration, tokens). */
  call(method: string, path: string, headers: Readonly<Record<string, string>>, body?: string): Promise<HttpAnswer> {
    return this.send(this.prepare(method, path, headers), body);
  }

  #dispatch(job: Job): void {
    if (this.#closed) {
      job.reject(new Error('HTTP: the client was closed'));
      return;
    }
    const idle = this.#idle.shift();
    if (idle !== undefined) {
      clearTimeout(idle.idleTimer);
      this.#start(idle, job);
    } else if (this.#open.size < this.#maxSockets) {
      this.#start(this.#connect(), job);
    } else {
      this.#queue.push(job);
    }
  }

  #start(c: Connection, job: Job): void {
    c.job = job;
    c.socket.write(job.text);
  }

  #connect(): Connection {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    const c = new Connection(socket);
    this.#open.add(c);
    socket.on('data', (chunk: Buffer) => {
      let answer;
      try {
        answer = c.feed(chunk);
      } catch (e) {
        this.#fail(c, e instanceof Error ? e : new Error(String(e)), false);
        return;
      }
      if (answer === undefined) return;
      const job = c.job;
      c.job = undefined;
      c.served++;
      if (answer.close) this.#drop(c);
      else this.#release(c);
      job?.resolve({ status: answer.status, body: answer.body, retried: job.retried });
    });
    socket.on('error', (e) => {
      this.#fail(c, e, true);
    });
    socket.on('close', () => {
      this.#fail(c, Object.assign(new Error('HTTP: the server closed the connection'), { code: 'ECONNRESET' }), true);
    });
    return c;
  }

  /** A connection is done with its answer: the next queued request takes it, or it waits idle. */
  #release(c: Connection): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#start(c, next);
      return;
    }
    c.idleTimer = setTimeout(() => {
      this.#drop(c);
    }, FREE_SOCKET_TIMEOUT_MS);
    c.idleTimer.unref();
    this.#idle.push(c);
  }

  #drop(c: Connection): void {
    if (!this.#open.delete(c)) return;
    clearTimeout(c.idleTimer);
    this.#idle = this.#idle.filter((x) => x !== c);
    c.socket.destroy();
    // A slot opened: a queued request may connect.
    const next = this.#queue.shift();
    if (next !== undefined) this.#dispatch(next);
  }

  /** The connection failed or closed: its request (if any) is retried once if the socket was reused
   *  and nothing of the answer had arrived, else it fails. */
  #fail(c: Connection, error: Error, transport: boolean): void {
    const job = c.job;
    const gotBytes = c.gotBytes;
    c.job = undefined;
    this.#drop(c);
    if (job === undefined) return;
    if (transport && c.served > 0 && !gotBytes && !job.retried) {
      job.retried = true;
      this.#dispatch(job);
      return;
    }
    job.reject(error);
  }

  close(): void {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('HTTP: the client was closed'));
    for (const c of [...this.#open]) this.#drop(c);
  }
}

/** Throws unless the answer has `status`; returns its body. */
export function expectStatus(answer: HttpAnswer, status: number, what: string): string {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer.body;
}
