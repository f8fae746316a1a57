#!/usr/bin/env node
// `npm start`: a tiny static server (node:http only, no dependencies) for the live demo. It
// serves the repository root, so web/ can import ../wasm/emoxnet.js and fetch ../models/*.emx,
// with the right MIME types (application/wasm lets browsers compile while downloading).
//   PORT=8080 (default; 0 picks a free port)  HOST=127.0.0.1 (default)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

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
  const server = createServer((req, res) => {
    const send = (code, text, headers = {}) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
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
      st = statSync(file);
      if (st.isDirectory()) {
        if (!pathname.endsWith('/')) return send(301, 'moved\n', { Location: `${pathname}/` });
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      if (log) console.log(`404 ${pathname}`);
      return send(404, `not found: ${pathname}\n`);
    }
    res.writeHead(200, {
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
