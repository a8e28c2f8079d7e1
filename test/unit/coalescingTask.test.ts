import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingTask } from '../../src/core/topology/coalescingTask';

/** A task whose runs end when the test says so. */
function gatedTask(): { task: CoalescingTask; runs: number; finish(): void } {
  const gates: (() => void)[] = [];
  const state = {
    runs: 0,
    task: new CoalescingTask(() => { state.runs++; return new Promise<void>((r) => { gates.push(r); }); }),
    finish: () => { gates.shift()?.(); },
  };
  return state;
}

const tick = (): Promise<void> => new Promise((r) => { setImmediate(r); });

describe('CoalescingTask', () => {
  it('runs once per request when idle', async () => {
    const g = gatedTask();
    const p = g.task.request();
    assert.equal(g.runs, 1);
    assert.equal(g.task.busy, true);
    g.finish();
    await p;
    assert.equal(g.task.busy, false);
    const q = g.task.request();
    assert.equal(g.runs, 2);
    g.finish();
    await q;
  });

  it('joins every request made during a run into exactly one more run, and settles after it', async () => {
    const g = gatedTask();
    const first = g.task.request();
    let settled = false;
    const joined = [g.task.request(), g.task.request(), g.task.request()];
    void Promise.all(joined).then(() => { settled = true; });
    assert.equal(g.runs, 1, 'no parallel run');
    g.finish();
    await tick();
    assert.equal(g.runs, 2, 'one queued run for three requests');
    assert.equal(settled, false, 'the requests wait for the run that started after them');
    g.finish();
    await first;
    await Promise.all(joined);
    assert.equal(settled, true);
    assert.equal(g.runs, 2);
  });

  it('drops the queued run once stopped', async () => {
    let stopped = false;
    let runs = 0;
    let release: () => void = () => undefined;
    const task = new CoalescingTask(() => { runs++; return new Promise<void>((r) => { release = r; }); }, () => stopped);
    const p = task.request();
    void task.request();
    stopped = true;
    release();
    await p;
    assert.equal(runs, 1);
  });
});
