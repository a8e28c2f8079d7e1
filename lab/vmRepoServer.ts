/**
 * The lab apt repository server (a program of its own: `node vmRepoServer.js ADDRESS PORT DIR`). Serves the
 * regular files directly in DIR (a flat apt repository: Packages, Packages.gz, *.deb) read-only over HTTP on
 * ADDRESS:PORT only — GET and HEAD, no directory listing, no path below DIR. Started and stopped by
 * lab/vmAptRepo.ts through its pidfile.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

function main(argv: readonly string[]): void {
  const [address, portText, dir] = argv;
  const port = Number(portText);
  if (address === undefined || dir === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('usage: vmRepoServer ADDRESS PORT DIR\n');
    process.exit(2);
  }
  const server = http.createServer((req, res) => {
    // apt asks a flat repository "./" for /./Packages: normalise, then only a plain file name is served
    let name = '';
    try { name = path.posix.normalize(`/${decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')}`).replace(/^\/+/, ''); } catch { name = ''; }
    const file = path.join(dir, name);
    const ok = (req.method === 'GET' || req.method === 'HEAD') && /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(name) && path.dirname(file) === path.resolve(dir);
    let st: fs.Stats | undefined;
    try { st = ok ? fs.statSync(file) : undefined; } catch { st = undefined; }
    process.stdout.write(`${new Date().toISOString()} ${req.socket.remoteAddress ?? '?'} ${req.method ?? '?'} /${name.replace(/[^\x20-\x7e]/g, '?')} ${st?.isFile() === true ? 200 : 404}\n`);
    if (st === undefined || !st.isFile()) {
      res.writeHead(ok ? 404 : 400, { 'content-type': 'text/plain' });
      res.end('not here\n');
      return;
    }
    res.writeHead(200, { 'content-length': String(st.size), 'content-type': 'application/octet-stream', 'last-modified': st.mtime.toUTCString() });
    if (req.method === 'HEAD') { res.end(); return; }
    fs.createReadStream(file).pipe(res);
  });
  server.on('error', (e) => { process.stderr.write(`vmRepoServer: ${e.message}\n`); process.exit(1); });
  server.listen(port, address, () => process.stdout.write(`serving ${dir} on http://${address}:${port}/\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main(process.argv.slice(2));
