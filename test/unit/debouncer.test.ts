import { describe, it, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { Debouncer } from '../../src/core/topology/debouncer';

describe('event debounce', () => {
  it('collapses a burst of events into one resync after the delay', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let calls = 0;
      const d = new Debouncer(100, () => { calls++; });
      for (let i = 0; i < 20; i++) { d.trigger(); mock.timers.tick(3); }
      assert.equal(calls, 0, 'not before 100 ms');
      mock.timers.tick(40);
      assert.equal(calls, 1);
      mock.timers.tick(500);
      assert.equal(calls, 1, 'no extra call without events');
      d.trigger();
      assert.ok(d.scheduled);
      mock.timers.tick(99);
      assert.equal(calls, 1);
      mock.timers.tick(1);
      assert.equal(calls, 2);
    } finally {
      mock.timers.reset();
    }
  });

  it('a steady stream still resyncs every delay (not starved) and cancel drops a pending call', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let calls = 0;
      const d = new Debouncer(100, () => { calls++; });
      for (let t = 0; t < 1000; t += 10) { d.trigger(); mock.timers.tick(10); }
      assert.ok(calls >= 9 && calls <= 10, `calls=${calls}`);
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
