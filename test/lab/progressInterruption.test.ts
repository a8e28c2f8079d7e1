import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { labUnavailable, nodeIps, repoRoot, ssh, stateDir } from './labHelpers';

// The issue "progress survives interruption" on the local lab, with the CLI as a learner runs it: a verify
// stopped while chapter 5 was broken must not untick the chapter 3 steps chapter 5 replaced, and runs and
// verifies killed at random points leave a file that parses and the same final results as an uninterrupted run.
// Run under the shared lab lock: node scripts/run-node-tests.mjs lab out/test/lab --grep=progressInterruption

const skip = labUnavailable() ?? (fs.existsSync(`${stateDir}/nodes.json`) ? undefined : 'the local lab is not up: run "docker-net-lab lab up" as root (or npm test, which brings it up)');
let dir = '';
let progressFile = '';
let env: NodeJS.ProcessEnv = process.env;

interface Outcome { readonly stepId: string; readonly status: string; readonly supersededBy?: string }

/** Runs the CLI; `stop` sends that signal when `when` says so (an output line seen, or after ms). */
function cli(args: string[], stop?: { signal: NodeJS.Signals; afterMs?: number; onLine?: RegExp; graceMs?: number }): Promise<Cmd & { startedAt: number; endedAt: number; stoppedAt?: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let stoppedAt: number | undefined;
    const send = (): void => {
      if (stoppedAt !== undefined || child.exitCode !== null) { return; }
      stoppedAt = Date.now();
      child.kill(stop?.signal);
    };
    const timers: NodeJS.Timeout[] = [];
    if (stop?.afterMs !== undefined) { timers.push(setTimeout(send, stop.afterMs)); }
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (stop?.onLine !== undefined && stoppedAt === undefined && stop.onLine.test(out)) { timers.push(setTimeout(send, stop.graceMs ?? 0)); }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    // a CLI that does not end within 30 s of its signal is a failure of its own (seen as code -9)
    timers.push(setTimeout(() => { child.kill('SIGKILL'); }, 900_000));
    const watchdog = setInterval(() => { if (stoppedAt !== undefined && Date.now() - stoppedAt > 30_000) { child.kill('SIGKILL'); } }, 1000);
    child.on('exit', (code, signal) => {
      for (const t of timers) { clearTimeout(t); }
      clearInterval(watchdog);
      resolve({ code: code ?? (signal === 'SIGKILL' ? -9 : -1), out, err, ms: Date.now() - t0, startedAt: t0, endedAt: Date.now(), ...(stoppedAt === undefined ? {} : { stoppedAt }) });
    });
  });
}

async function results(args: string[]): Promise<Outcome[]> {
  const r = await cli([...args, '--json']);
  const doc = JSON.parse(r.out) as { results: Outcome[] };
  return doc.results;
}

function summary(rs: readonly Outcome[]): string {
  const n = (s: string): number => rs.filter((r) => r.status === s).length;
  return `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} not applicable`;
}

function failures(rs: readonly Outcome[]): string {
  return rs.filter((r) => r.status !== 'passed' && r.status !== 'skipped').map((r) => `${r.stepId}=${r.status}`).join(' ');
}

/** The progress file parses as a version 1 progress file (or does not exist yet). */
function assertParses(when: string): void {
  if (!fs.existsSync(progressFile)) { return; }
  const doc = JSON.parse(fs.readFileSync(progressFile, 'utf8')) as { version?: number };
  assert.equal(doc.version, 1, `the progress file is a progress file ${when}`);
}

function measured(line: string): void { process.stdout.write(`# progress: ${line}\n`); }

describe('progress survives interruption (local lab, CLI)', { skip: skip ?? false, timeout: 1_200_000 }, () => {
  let baseline: Outcome[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-progress-int-'));
    progressFile = path.join(dir, 'progress.json');
    env = { ...process.env, DOCKER_NET_LAB_PROGRESS: progressFile };
  });

  after(async () => {
    // leave the lab as lab up makes it: nothing of the guided lab on the nodes
    const r = await cli(['reset', '--yes']);
    if (r.code !== 0) { process.stderr.write(`reset --yes: ${r.out}${r.err}\n`); }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a verify stopped while redis was down does not untick what chapter 5 replaced: verify passes twice after docker start redis', { timeout: 600_000 }, async () => {
    const run = await results(['run', '--all', '--yes']);
    assert.equal(failures(run), '', `run --all: ${summary(run)}`);
    baseline = await results(['verify', '--all']);
    assert.equal(failures(baseline), '', 'verify --all on the whole lab');
    assert.ok(baseline.some((r) => r.stepId === 'ch3-run-flask-link' && r.supersededBy === 'ch5-redis-node1'), 'ch3 is replaced by ch5 before');
    measured(`uninterrupted: run --all ${summary(run)}; verify --all ${summary(baseline)}`);

    assert.equal(ssh(nodeIps[0], 'docker stop redis').code, 0);
    // the issue's "timeout 40 verify --all", sent when it reaches the step it hangs on (or at 40 s)
    const stopped = await cli(['verify', '--all'], { signal: 'SIGTERM', afterMs: 40_000, onLine: /== ch5-flask-node2:/, graceMs: 3000 });
    assert.notEqual(stopped.code, -9, 'the CLI ends after SIGTERM');
    assertParses('after the SIGTERM');
    assert.ok(stopped.stoppedAt !== undefined, 'the verify was still running when the signal was sent');
    measured(`verify stopped with SIGTERM ${stopped.stoppedAt - stopped.startedAt} ms after it started; it ended ${stopped.endedAt - stopped.stoppedAt} ms after the signal`);
    assert.equal(ssh(nodeIps[0], 'docker start redis').code, 0);

    for (const round of ['first', 'second']) {
      const v = await results(['verify', '--all']);
      measured(`${round} verify after docker start redis: ${summary(v)}${failures(v) === '' ? '' : ` (${failures(v)})`}`);
      assert.equal(failures(v), '', `${round} verify --all after the repair passes as before`);
      assert.deepEqual(v.map((r) => [r.stepId, r.status, r.supersededBy ?? '']), baseline.map((r) => [r.stepId, r.status, r.supersededBy ?? '']), `${round} verify equals the uninterrupted one`);
    }
  });

  it('verify --all and run --all killed at random points: the file always parses, the final results equal an uninterrupted run\'s', { timeout: 900_000 }, async () => {
    assert.ok(baseline.length > 0, 'the first test ran');
    const verifies = 4;
    const runs = 2;
    const seen: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < verifies; i++) {
      const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
      const afterMs = 1000 + Math.floor(Math.random() * 10_000);
      const r = await cli(['verify', '--all'], { signal, afterMs });
      assert.notEqual(r.code, -9, `verify ended after ${signal}`);
      assertParses(`after verify ${i + 1} (${signal} at ${afterMs} ms)`);
      seen.push(`verify ${signal}@${afterMs}ms`);
      const whole = await results(['verify', '--all']);
      assert.equal(failures(whole), '', `verify --all on the whole lab after interruption ${i + 1} (${signal} at ${afterMs} ms)`);
    }
    for (let i = 0; i < runs; i++) {
      const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      const afterMs = 3000 + Math.floor(Math.random() * 25_000);
      const r = await cli(['run', '--all', '--yes'], { signal, afterMs });
      assert.notEqual(r.code, -9, `run ended after ${signal}`);
      assertParses(`after run ${i + 1} (${signal} at ${afterMs} ms)`);
      seen.push(`run ${signal}@${afterMs}ms`);
      const done = await results(['run', '--all', '--yes']);
      assert.equal(failures(done), '', `run --all to completion after interruption ${i + 1}`);
    }
    const final = await results(['verify', '--all']);
    measured(`${verifies} verify and ${runs} run interruptions (${seen.join(', ')}) in ${Math.round((Date.now() - t0) / 1000)} s; final verify ${summary(final)}`);
    assert.deepEqual(final.map((r) => [r.stepId, r.status, r.supersededBy ?? '']), baseline.map((r) => [r.stepId, r.status, r.supersededBy ?? '']));
  });
});
