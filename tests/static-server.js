// A static file server for the example apps' builds and the browser tests, on a free port. Like most dev servers and
// SPA hosts it answers unknown paths with index.html (200, text/html): exactly the answer that
// used to reach the package as "not an .emx file", so the tests see what users' servers send.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.emx': 'application/octet-stream',
};

/**
 * Serve `root` on 127.0.0.1:<free port>; resolves to { url, close() }. extra: { '/path': [body,
 * content-type] } served before the files.
 */
export async function serveStatic(root, { spaFallback = true, extra = {} } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (extra[path]) {
      res.writeHead(200, { 'content-type': extra[path][1] }).end(extra[path][0]);
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' }).end(await readFile(file));
    } catch {
      if (spaFallback) {
        try {
          res.writeHead(200, { 'content-type': TYPES['.html'] }).end(await readFile(join(root, 'index.html')));
          return;
        } catch {
          /* no index.html: 404 */
        }
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}
