import { describe, it, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { Debouncer } from '../../src/core/topology/debouncer';

describe('event debounce', () => {
  it('the first event after a quiet period resyncs at once; the rest of its burst joins one call at the end of the window', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      let calls = 0;
      const d = new Debouncer(100, () => { calls++; });
      d.trigger();
      d.trigger(); // same turn: joins the first call
      assert.equal(calls, 0, 'not synchronously');
      mock.timers.tick(0);
      assert.equal(calls, 1, 'the first event is not delayed');
      for (let i = 0; i < 20; i++) { mock.timers.tick(3); d.trigger(); }
      assert.equal(calls, 1, 'the burst waits for the end of the window');
      mock.timers.tick(40);
      assert.equal(calls, 2, 'one call for the rest of the burst, 100 ms after the first');
      mock.timers.tick(500);
      assert.equal(calls, 2, 'no extra call without events');
      d.trigger();
      assert.ok(d.scheduled);
      mock.timers.tick(0);
      assert.equal(calls, 3, 'quiet again: at once');
    } finally {
      mock.timers.reset();
    }
  });

  it('a steady stream resyncs once per delay (not starved) and cancel drops a pending call', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      let calls = 0;
      const d = new Debouncer(100, () => { calls++; });
      for (let t = 0; t < 1000; t += 10) { d.trigger(); mock.timers.tick(10); }
      assert.ok(calls >= 10 && calls <= 11, `calls=${calls}`);
      d.trigger();
      d.cancel();
      const before = calls;
      mock.timers.tick(1000);
      assert.equal(calls, before);
    } finally {
      mock.timers.reset();
    }
  });
});
