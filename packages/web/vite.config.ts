// Builds the web client into packages/web/dist (served by `sotto serve` at `/`), with content-hashed
// file names. Two guards make a wrong bundle fail the build instead of failing in a user's browser:
// - nothing Node-only may be bundled: @sotto/crypto must resolve through its browser condition
//   (src/webcrypto.ts, not src/node.ts) and @sotto/client through its platform-neutral entry, so any
//   `node:` module, Node built-in or `ws` reaching the bundle is an error;
// - the server's Content-Security-Policy allows only files from 'self' (script-src, style-src), so
//   the built index.html may hold no inline script, no <style> and no style attribute.
// The ML-KEM-1024 WebAssembly module is embedded in @sotto/crypto as base64 (src/internal/
// mlkem1024-wasm.ts) and bundled with it; compiling it needs 'wasm-unsafe-eval' in the CSP.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const NODE_ONLY = new Set([...builtinModules, 'ws']);

function browserOnly(): Plugin {
  return {
    name: 'sotto-browser-only',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source.startsWith('node:') || NODE_ONLY.has(source) || NODE_ONLY.has(source.split('/')[0] ?? '')) {
        this.error(`${source} (imported by ${importer ?? 'an entry'}) is Node-only and must not reach the browser bundle`);
      }
      return null;
    },
  };
}

function strictCsp(): Plugin {
  return {
    name: 'sotto-strict-csp',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.endsWith('.html')) continue;
        const html = typeof file.source === 'string' ? file.source : new TextDecoder().decode(file.source);
        const problems = [
          ...[...html.matchAll(/<script\b[^>]*>/gi)].filter((m) => !/\bsrc=/i.test(m[0])).map(() => 'an inline <script>'),
          ...(/<style\b/i.test(html) ? ['a <style> element'] : []),
          ...(/\sstyle=/i.test(html) ? ['a style attribute'] : []),
          ...(/\son[a-z]+=/i.test(html) ? ['an inline event handler'] : []),
        ];
        if (problems.length > 0) this.error(`${file.fileName} has ${problems.join(', ')}: the CSP (script-src/style-src 'self') would block it`);
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  resolve: {
    // The browser's conditions (Vite's default for the client, spelled out): @sotto/crypto's
    // "default" export (WebCrypto) is picked, never its "node" one.
    conditions: ['browser', 'module', 'development|production'],
  },
  plugins: [browserOnly(), strictCsp()],
  // The SFrame worker (src/calls/sframe-worker.ts) is a module worker (`type: 'module'`), built as an
  // ES module under the same Node-only guard as the page.
  worker: { format: 'es', plugins: () => [browserOnly()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No data: URLs for assets and no polyfill snippet: every file is a real, hashed file from 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
  },
});
