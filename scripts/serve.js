#!/usr/bin/env node
// `npm start`: a tiny static server (node:http only, no dependencies) for the live demo. It
// serves only what the demo needs from the repository root (web/, the JS module and the .wasm
// files under wasm/, models/*.emx and the model cards), so web/ can import ../wasm/emoxnet.js and fetch
// ../models/*.emx, with the right MIME types (application/wasm lets browsers compile while
// downloading). Every path is resolved to its real path (symlinks followed) and must still
// lie inside the root and the allowed folders: a symlink out of web/ serves nothing.
// COOP/COEP make the page cross-origin isolated, so it could use wasm threads later.
//   PORT=8080 (default; 0 picks a free port)  HOST=127.0.0.1 (default)
import { createServer } from 'node:http';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

// What the demo loads, as [folder, extensions] relative to the root. Anything else (build/,
// training/, .git, CMakeCache.txt, sources) is 404.
export const ALLOWED = [
  ['web', null], // the page itself: any file in web/
  ['wasm', ['.js', '.mjs', '.wasm', '.ts']],
  // the models, and their cards with the cards' figures: the page's limitations note links them
  ['models', ['.emx', '.md', '.png']],
];

function allowed(root, real) {
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false;
  const [top] = rel.split(sep);
  return ALLOWED.some(([dir, exts]) => top === dir && (exts === null || exts.includes(extname(real).toLowerCase()) || statSync(real).isDirectory()));
}

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.emx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.y4m': 'application/octet-stream',
};

/** Start serving `root`; resolves to { server, url } once listening. */
export function serve({ root = ROOT, port = 8080, host = '127.0.0.1', log = false } = {}) {
  const realRoot = realpathSync(root);
  const isolation = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  const server = createServer((req, res) => {
    const send = (code, text, headers = {}) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...isolation, ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    if (pathname === '/') return send(302, 'see /web/\n', { Location: '/web/' });
    if (pathname.includes('\0')) return send(400, 'bad request\n');
    // never serve dotfiles (.git, .ci, ...): the demo needs none
    if (pathname.split('/').some((seg) => seg.startsWith('.'))) return send(404, `not found: ${pathname}\n`);
    let file = normalize(join(root, pathname));
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden\n');
    let st;
    try {
      // The real path, symlinks followed, must lie in an allowed folder of the real root.
      file = realpathSync(file);
      if (!allowed(realRoot, file)) throw new Error('not served');
      st = statSync(file);
      if (st.isDirectory()) {
        if (!pathname.endsWith('/')) return send(301, 'moved\n', { Location: `${pathname}/` });
        file = realpathSync(join(file, 'index.html'));
        if (!allowed(realRoot, file)) throw new Error('not served');
        st = statSync(file);
      }
      if (!st.isFile()) throw new Error('not a regular file');
    } catch {
      if (log) console.log(`404 ${pathname}`);
      return send(404, `not found: ${pathname}\n`);
    }
    res.writeHead(200, {
      ...isolation,
      'Content-Type': MIME[extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolvePromise({ server, url: `http://${host}:${p}/web/` });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST || '127.0.0.1';
  serve({ port, host, log: true }).then(
    ({ url }) => console.log(`EmoXNet live demo: ${url}  (serving ${ROOT}; Ctrl+C to stop)`),
    (err) => {
      console.error(`serve: cannot listen on ${host}:${port}: ${err.message}`);
      process.exit(1);
    },
  );
}
