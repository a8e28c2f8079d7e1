import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { ProgressStore } from '../../src/core/lab/progressStore';
import { firstBridgeIp } from './fixtures/bridgeAddresses.fixture';

const key = 'docker-networking 10.99.0.11,10.99.0.12';
const writer = path.join(__dirname, 'progressWriter.js');

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'progress-store-')), 'progress.json');
}

function record(i: number): { status: 'passed'; at: string; durationMs: number } {
  return { status: 'passed', at: new Date().toISOString(), durationMs: i };
}

/** The steps recorded in the file on disk (it must parse). */
function stepsOnDisk(file: string): string[] {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { labs: Record<string, { steps: Record<string, unknown> }> };
  return Object.keys(doc.labs[key]?.steps ?? {}).sort();
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function exited(child: ChildProcess): Promise<{ code: number | null; err: string }> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve) => { child.on('exit', (code) => { resolve({ code, err }); }); });
}

describe('progress store: the write path', () => {
  it('two processes recording different steps at once (starting on a stale lock): every record of both survives', async () => {
    const file = tempFile();
    const barrier = `${file}.go`;
    // a lock left by a writer that died: both must take it over, only one at a time
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: deadPid(), start: '', host: os.hostname(), token: 'abcdef012345' }));
    const stale = new ProgressStore(file, key);
    const children = ['a', 'b'].map((p) => spawn(process.execPath, [writer, file, key, p, '150', barrier], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const done = children.map(exited);
    fs.writeFileSync(barrier, '');
    const results = await Promise.all(done);
    for (const r of results) { assert.equal(r.code, 0, r.err); }
    // a store opened before both wrote (the extension's runner) records one more step
    stale.recordStep('mine', record(0));
    const want = [...['a', 'b'].flatMap((p) => Array.from({ length: 150 }, (_, i) => `${p}-${i}`)), 'mine'].sort();
    assert.deepEqual(stepsOnDisk(file), want);
    assert.deepEqual(Object.keys(stale.progress.steps).sort(), want, 'the old store reads the latest file');
    assert.deepEqual(Object.keys(stale.progress.captures).sort(), ['aIp', 'bIp']);
    assert.equal(fs.existsSync(`${file}.lock`), false, 'the lock is released');
  });

  it('a store opened before another writer changed the file merges its change into the latest file', () => {
    const file = tempFile();
    const vscodeStore = new ProgressStore(file, key);
    const cliStore = new ProgressStore(file, key);
    cliStore.recordStep('ch1-run-web', record(1));
    cliStore.setCapture('webIp', firstBridgeIp);
    vscodeStore.recordStep('ch1-publish-port', record(2));
    vscodeStore.setOverlayPath('swarm');
    const fresh = new ProgressStore(file, key);
    assert.deepEqual(Object.keys(fresh.progress.steps).sort(), ['ch1-publish-port', 'ch1-run-web']);
    assert.equal(fresh.progress.captures['webIp'], firstBridgeIp);
    assert.equal(fresh.progress.overlayPath, 'swarm');
    assert.equal(vscodeStore.step('ch1-run-web')?.durationMs, 1, 'reads see the other writer\'s record');
    cliStore.forgetStep('ch1-run-web');
    assert.equal(vscodeStore.step('ch1-run-web'), undefined);
    assert.equal(vscodeStore.step('ch1-publish-port')?.durationMs, 2);
  });

  it('a damaged file is reported with its path and kept as a backup, never reset silently', () => {
    const file = tempFile();
    const partial = '{\n  "version": 1,\n  "labs": {\n    "docker-networking 10.99.0.11,10.99.0.12": { "steps": { "ch1-run-web": { "sta';
    fs.writeFileSync(file, partial);
    const warnings: string[] = [];
    const store = new ProgressStore(file, key, { onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1, 'told once');
    const backup = fs.readdirSync(path.dirname(file)).find((n) => n.startsWith('progress.json.corrupt-'));
    assert.ok(backup !== undefined, 'a backup is kept');
    assert.equal(fs.readFileSync(path.join(path.dirname(file), backup), 'utf8'), partial, 'the backup holds the damaged bytes');
    assert.ok(warnings[0]?.includes(file) === true && warnings[0].includes(backup), `the warning names both files: ${warnings[0] ?? ''}`);
    assert.deepEqual(store.progress.steps, {});
    store.recordStep('ch1-run-web', record(3));
    assert.deepEqual(stepsOnDisk(file), ['ch1-run-web']);
  });

  it('a file damaged after the store read it is set aside at the next write, not overwritten', () => {
    const file = tempFile();
    const warnings: string[] = [];
    const store = new ProgressStore(file, key, { onWarning: (m) => warnings.push(m) });
    store.recordStep('ch1-run-web', record(1));
    fs.writeFileSync(file, 'not json at all');
    store.recordStep('ch1-publish-port', record(2));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    const backups = fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith('progress.json.corrupt-'));
    assert.equal(backups.length, 1);
    assert.equal(fs.readFileSync(path.join(path.dirname(file), backups[0] ?? ''), 'utf8'), 'not json at all');
    assert.deepEqual(stepsOnDisk(file), ['ch1-publish-port'], 'the records of the damaged file are not invented back');
  });

  it('a writer killed at random points never leaves a file that does not parse, nor a lock others wait on', { timeout: 120_000 }, async () => {
    const file = tempFile();
    const kills = 12;
    let killedInside = 0;
    for (let i = 0; i < kills; i++) {
      const child = spawn(process.execPath, [writer, file, key, `k${i}`, '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const done = exited(child);
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 250)));
      child.kill('SIGKILL');
      await done;
      if (fs.existsSync(`${file}.lock`)) { killedInside++; }
      if (fs.existsSync(file)) { stepsOnDisk(file); }
    }
    // the next writer takes over a lock a killed one left, and removes its temp files
    const store = new ProgressStore(file, key, { lockTimeoutMs: 2000 });
    store.recordStep('after', record(0));
    assert.ok(stepsOnDisk(file).includes('after'));
    const left = fs.readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp') || n === 'progress.json.lock');
    assert.deepEqual(left, []);
    process.stdout.write(`# progress store: ${kills} writers SIGKILLed, ${killedInside} of them inside the lock; the file parsed every time\n`);
  });
});

describe('progress store: the lock', () => {
  it('a lock held by a live process is waited for and never taken over', () => {
    const file = tempFile();
    const store = new ProgressStore(file, key, { lockTimeoutMs: 300 });
    const held = JSON.stringify({ pid: process.pid, start: '', host: os.hostname(), token: '0123456789ab' });
    fs.writeFileSync(`${file}.lock`, held);
    const t0 = Date.now();
    assert.throws(() => { store.recordStep('x', record(0)); }, (e: unknown) => isLabError(e, 'Timeout') && e.message.includes(`${file}.lock`));
    assert.ok(Date.now() - t0 >= 300, 'it waited');
    assert.equal(fs.readFileSync(`${file}.lock`, 'utf8'), held, 'the live lock is untouched');
    assert.equal(fs.existsSync(file), false, 'nothing was written without the lock');
    fs.rmSync(`${file}.lock`);
    store.recordStep('x', record(0));
    assert.deepEqual(stepsOnDisk(file), ['x']);
  });

  it('a dead owner\'s lock is removed only by the one waiter whose takeover claim succeeded', () => {
    const file = tempFile();
    const store = new ProgressStore(file, key, { lockTimeoutMs: 300 });
    const stale = JSON.stringify({ pid: deadPid(), start: '', host: os.hostname(), token: 'deadbeef0001' });
    fs.writeFileSync(`${file}.lock`, stale);
    // another (live) waiter is taking it over right now: this one must not remove the lock too
    fs.writeFileSync(`${file}.lock.takeover-deadbeef0001`, JSON.stringify({ pid: process.pid, start: '', host: os.hostname(), token: 'feedface0002' }));
    assert.throws(() => { store.recordStep('x', record(0)); }, (e: unknown) => isLabError(e, 'Timeout'));
    assert.equal(fs.readFileSync(`${file}.lock`, 'utf8'), stale);
    // the claimer died as well: its claim is taken over in turn, then the lock
    fs.writeFileSync(`${file}.lock.takeover-deadbeef0001`, JSON.stringify({ pid: deadPid(), start: '', host: os.hostname(), token: 'feedface0003' }));
    store.recordStep('x', record(0));
    assert.deepEqual(stepsOnDisk(file), ['x']);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((n) => n.includes('.lock')), []);
  });
});
