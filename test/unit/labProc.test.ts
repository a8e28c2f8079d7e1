import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { httpGet, pidIs, readPid, run, tcpBanner, withDescendants, withLock } from '../../lab/labProc';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('lab process helpers', () => {
  it('withDescendants lists a tree children first and ignores unrelated pids', () => {
    const table = new Map<number, number>([[10, 1], [11, 10], [12, 11], [13, 10], [20, 1]]);
    assert.deepEqual(withDescendants([10], table), [12, 11, 13, 10]);
    assert.deepEqual(withDescendants([20, 20], table), [20]);
  });

  it('readPid reads a pidfile and rejects junk; pidIs checks the program name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labproc-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.pid'), `${process.pid}\n`);
      fs.writeFileSync(path.join(dir, 'b.pid'), 'not a pid\n');
      assert.equal(readPid(path.join(dir, 'a.pid')), process.pid);
      assert.equal(readPid(path.join(dir, 'b.pid')), undefined);
      assert.equal(readPid(path.join(dir, 'missing.pid')), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (process.platform === 'linux') {
      const comm = fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
      assert.equal(pidIs(process.pid, [comm]), true);
      assert.equal(pidIs(process.pid, ['dockerd']), false);
    }
  });

  it('run reports exit codes and output without throwing', async () => {
    const ok = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [3, 'out\n', 'err\n']);
    const missing = await run('/nonexistent/program', []);
    assert.equal(missing.code, 127);
  });

  it('tcpBanner reads the first line; undefined when nothing listens', async () => {
    const server = net.createServer((s) => s.end('SSH-2.0-Test\r\n'));
    const port = await listen(server);
    try {
      assert.equal(await tcpBanner('127.0.0.1', port, 2000), 'SSH-2.0-Test');
    } finally {
      server.close();
    }
    assert.equal(await tcpBanner('127.0.0.1', port, 1000), undefined);
  });

  it('httpGet returns status and body', async () => {
    const server = http.createServer((_req, res) => { res.writeHead(200); res.end('OK'); });
    const port = await listen(server);
    try {
      assert.deepEqual(await httpGet(`http://127.0.0.1:${port}/_ping`, 2000), { status: 200, body: 'OK' });
    } finally {
      server.close();
    }
  });

  it('withLock runs callers one at a time and releases the lock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablock-'));
    const lock = path.join(dir, 'lab.lock');
    const order: string[] = [];
    let waited = 0;
    try {
      const slow = withLock(lock, 5000, () => undefined, async () => {
        order.push('a-start');
        await new Promise((r) => setTimeout(r, 300));
        order.push('a-end');
      });
      await new Promise((r) => setTimeout(r, 50));
      const second = withLock(lock, 5000, () => { waited++; }, () => { order.push('b'); return Promise.resolve(); });
      await Promise.all([slow, second]);
      assert.deepEqual(order, ['a-start', 'a-end', 'b']);
      assert.equal(waited, 1, 'the second caller is told once that it waits');
      assert.equal(fs.readFileSync(lock, 'utf8'), '', 'released: the lock file names no holder');
      fs.writeFileSync(lock, '999999999\n');
      assert.equal(await withLock(lock, 1000, () => undefined, () => Promise.resolve(42)), 42, 'a stale lock is taken over');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
