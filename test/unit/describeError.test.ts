import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { describeError, LabError } from '../../src/core/errors';

describe('describeError', () => {
  it('gives an error its message and a string itself', () => {
    assert.equal(describeError(new LabError('Timeout', 'took too long')), 'took too long');
    assert.equal(describeError('plain words'), 'plain words');
  });
  it('always returns a string, also for values JSON.stringify cannot write', () => {
    const values: unknown[] = [undefined, () => 1, Symbol('s'), 10n, null, { a: 1 }, [1, 2]];
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    values.push(circular);
    for (const v of values) {
      const d = describeError(v);
      assert.equal(typeof d, 'string', `describeError of ${String(typeof v)}`);
      assert.notEqual(d, '', `describeError of ${String(typeof v)} is empty`);
    }
    assert.equal(describeError(undefined), 'undefined');
    assert.equal(describeError(10n), '10');
    assert.equal(describeError({ a: 1 }), '{"a":1}');
  });
});
