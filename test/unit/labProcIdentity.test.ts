import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isLabProcess, pidAlive, processStartTicks, readPidRecord, terminateRecorded, waitFor, writePidRecord } from '../../lab/labProc';

// The lab stops its daemons by pidfile. These tests point pidfiles at real processes that are not the recorded
// one (a pid reused by a host process with the same program name) and check that nothing is signalled.
const linux = process.platform === 'linux';

async function startSleep(args: readonly string[] = []): Promise<ChildProcess & { pid: number }> {
  const child = spawn(args.length === 0 ? 'sleep' : args[0]!, args.length === 0 ? ['300'] : [...args.slice(1), 'sleep', '300'], { stdio: 'ignore' });
  // until it runs as "sleep" (after unshare's exec) with a start time
  assert.ok(await waitFor(() => child.pid !== undefined && fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep', 5000, 10), 'sleep started');
  return child as ChildProcess & { pid: number };
}

describe('lab pidfiles identify their process (pid, start time, node namespace)', { skip: linux ? false : 'needs /proc (Linux)' }, () => {
  it('a pidfile whose pid now belongs to another sleep (same name, later start) is refused: not signalled, still alive', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labpid-'));
    const file = path.join(dir, 'anchor.pid');
    const recorded = await startSleep();
    const ticks = processStartTicks(recorded.pid);
    // the other process must start at a later clock tick than the recorded one
    await new Promise((r) => setTimeout(r, 50));
    const other = await startSleep();
    try {
      assert.notEqual(processStartTicks(other.pid), ticks, 'the two sleeps started at different ticks');
      const rec = writePidRecord(file, recorded.pid);
      assert.deepEqual(rec, { pid: recorded.pid, startTicks: ticks });
      assert.deepEqual(readPidRecord(file), rec);
      const ownNetns = '/proc/self/ns/net';
      assert.equal(isLabProcess(rec, ['sleep'], ownNetns), true, 'the recorded process is recognised');
      // the pid was reused: the file still carries the recorded start time, the pid is the other sleep's
      fs.writeFileSync(file, `${other.pid} ${rec.startTicks ?? ''}\n`);
      assert.equal(await terminateRecorded(file, ['sleep'], ownNetns, 1000), undefined, 'refused');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(pidAlive(other.pid), true, 'the other sleep was not killed');
      // the recorded process itself is stopped through the same path
      fs.writeFileSync(file, `${recorded.pid} ${rec.startTicks ?? ''}\n`);
      assert.equal(await terminateRecorded(file, ['sleep'], ownNetns, 2000), recorded.pid);
      assert.equal(await waitFor(() => !pidAlive(recorded.pid), 3000, 50), true, 'the recorded sleep is gone');
    } finally {
      recorded.kill('SIGKILL');
      other.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pid-only pidfile (as dockerd writes it) naming a sleep outside the node\'s namespace is refused; one inside is stopped', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root to create a network namespace (unshare --net)'); return; }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labpid-'));
    const file = path.join(dir, 'dockerd.pid');
    // the "node": a process in a network namespace of its own; the host process: a sleep in ours
    const inNode = await startSleep(['unshare', '--net', '--']);
    const onHost = await startSleep();
    try {
      const nodeNetns = `/proc/${inNode.pid}/ns/net`;
      fs.writeFileSync(file, `${onHost.pid}\n`);
      assert.equal(isLabProcess(readPidRecord(file), ['sleep'], nodeNetns), false);
      assert.equal(await terminateRecorded(file, ['sleep'], nodeNetns, 1000), undefined, 'refused');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(pidAlive(onHost.pid), true, 'the host sleep was not killed');
      fs.writeFileSync(file, `${inNode.pid}\n`);
      assert.equal(await terminateRecorded(file, ['sleep'], nodeNetns, 2000), inNode.pid);
      assert.equal(await waitFor(() => !pidAlive(inNode.pid), 3000, 50), true, 'the sleep in the namespace is gone');
    } finally {
      inNode.kill('SIGKILL');
      onHost.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
