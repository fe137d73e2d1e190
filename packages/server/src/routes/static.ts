// The web client's files (packages/web/dist) at `/`: GET and HEAD of every path outside the API
// (docs/protocol/09 §9.11). The files come from a directory or from a map path → bytes. `/` and paths
// without a file extension that match no file (the client's own routes, e.g. /chat/bob) get
// index.html; a missing file WITH an extension is 404 (a missing script must not come back as HTML).
//
// Every response carries a strict Content-Security-Policy (scripts, styles and connections only from
// this origin — plus ws:/wss: for the WebSocket —, no plugins, no <base>, no framing), nosniff and
// no-referrer. Paths are checked segment by segment after percent-decoding: no "." or ".." segment,
// no segment starting with "." (dot files), no "/", "\" or NUL inside a segment; in directory mode the
// file's real path (symbolic links resolved) must still lie inside the directory.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** The web client's files: a directory (read on each request, so a rebuild needs no restart) or a map
 *  from URL paths ("/index.html", "/assets/app-1a2b3c4d.js") to bytes. */
export type StaticFiles = string | ReadonlyMap<string, Uint8Array>;

/** docs/protocol/09 §9.11. `connect-src ws: wss:`: the WebSocket's origin is not 'self' to CSP Level 2
 *  browsers; `blob:` / `data:` images and `blob:` / `mediastream:` media: attachments and the camera;
 *  `'wasm-unsafe-eval'`: compiling WebAssembly only (not JS eval), for @sotto/crypto's ML-KEM module. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; " +
  "script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Vite puts content-hashed files under /assets/: their bytes never change under one name. */
const IMMUTABLE_PREFIX = '/assets/';

const NOT_BUILT =
  'The Sotto server is running, but the web client is not built.\n' +
  'Build it with `npm run build -w @sotto/web` (the page is served from packages/web/dist); the API is at /v1/.\n';

/** Whether `pathname` is the web client's (GET/HEAD outside /v1, /health and /metrics). */
export function isStaticPath(pathname: string): boolean {
  return !(pathname === '/v1' || pathname.startsWith('/v1/'));
}

function securityHeaders(contentType: string, cacheControl: string): Headers {
  return new Headers({
    'content-type': contentType,
    'cache-control': cacheControl,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
}

function respond(method: string, status: number, body: Uint8Array, contentType: string, cacheControl: string): Response {
  const headers = securityHeaders(contentType, cacheControl);
  headers.set('content-length', String(body.length));
  // HEAD: the same headers (Content-Length included), no body.
  return new Response(method === 'HEAD' ? null : body.slice(), { status, headers });
}

function text(method: string, status: number, message: string): Response {
  return respond(method, status, new TextEncoder().encode(message), 'text/plain; charset=utf-8', 'no-store');
}

/** The decoded path segments, or undefined when the path is refused. */
function segments(pathname: string): string[] | undefined {
  const raw = pathname.split('/').slice(1);
  const out: string[] = [];
  for (const [i, r] of raw.entries()) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return undefined;
    }
    if (s === '' && i === raw.length - 1) continue; // a trailing slash
    if (s === '' || s === '.' || s === '..' || s.startsWith('.') || /[/\\\0]/.test(s)) return undefined;
    out.push(s);
  }
  return out;
}

interface Source {
  /** The file's bytes, or undefined when there is none. */
  read(segs: readonly string[]): Promise<Uint8Array | undefined>;
}

function mapSource(files: ReadonlyMap<string, Uint8Array>): Source {
  const byPath = new Map<string, Uint8Array>();
  for (const [path, bytes] of files) byPath.set(path.startsWith('/') ? path : `/${path}`, bytes);
  return { read: (segs) => Promise.resolve(byPath.get(`/${segs.join('/')}`)) };
}

function directorySource(dir: string): Source {
  const root = resolve(dir);
  return {
    async read(segs) {
      if (segs.length === 0) return undefined;
      try {
        const real = await realpath(join(root, ...segs));
        const realRoot = await realpath(root);
        if (!real.startsWith(realRoot + sep)) return undefined; // a symbolic link out of the directory
        if (!(await stat(real)).isFile()) return undefined;
        return new Uint8Array(await readFile(real));
      } catch {
        return undefined; // missing, unreadable, or not a directory on the way
      }
    },
  };
}

/** The handler of docs/protocol/09 §9.11 for `files`: answers a GET or HEAD of a static path. */
export function createStaticHandler(files: StaticFiles): (method: 'GET' | 'HEAD', pathname: string) => Promise<Response> {
  const source = typeof files === 'string' ? directorySource(files) : mapSource(files);
  return async (method, pathname) => {
    const segs = segments(pathname);
    if (segs === undefined) return text(method, 404, 'not found\n');
    const last = segs[segs.length - 1];
    if (last !== undefined) {
      const bytes = await source.read(segs);
      if (bytes !== undefined) {
        const type = CONTENT_TYPES[extname(last).toLowerCase()] ?? 'application/octet-stream';
        const immutable = pathname.startsWith(IMMUTABLE_PREFIX) && last !== 'index.html';
        return respond(method, 200, bytes, type, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      }
      if (extname(last) !== '') return text(method, 404, 'not found\n');
    }
    // `/` or a client route: the app's page. no-cache: a new build is picked up at once.
    const index = await source.read(['index.html']);
    if (index === undefined) return text(method, 404, NOT_BUILT);
    return respond(method, 200, index, CONTENT_TYPES['.html'] ?? 'text/html', 'no-cache');
  };
}
