import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { quoteUserText, userTextMaxChars } from '../../src/core/util/displayText';
import { hostileStrings } from './hostileStrings';

describe('quoteUserText (user input echoed in messages)', () => {
  it('leaves ordinary ids alone', () => {
    assert.equal(quoteUserText('ch1-run-web'), 'ch1-run-web');
    assert.equal(quoteUserText('步骤 ü'), '步骤 ü');
  });

  it('turns control, separator and bidi characters into visible escapes', () => {
    assert.equal(quoteUserText('a\x1b[2Jb'), 'a\\x1b[2Jb');
    assert.equal(quoteUserText('x\ny\r\tz\0\x7f\x9b'), 'x\\ny\\r\\tz\\x00\\x7f\\x9b');
    assert.equal(quoteUserText('\u202eevil\u2066\u2028'), '\\u202eevil\\u2066\\u2028');
  });

  it('caps the length (after escaping) and marks the cut', () => {
    assert.equal(quoteUserText('A'.repeat(500)), `${'A'.repeat(userTextMaxChars)}…`);
    assert.equal(quoteUserText('\x1b'.repeat(100), 10), '\\x1b\\x1b\\x…');
    assert.equal(quoteUserText('abc', 3), 'abc');
  });

  it('never lets a control character through, whatever the input', () => {
    for (const s of hostileStrings(300, 7, 'canary')) {
      const q = quoteUserText(s);
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      assert.doesNotMatch(q, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(s));
      assert.ok([...q].length <= userTextMaxChars + 1, JSON.stringify(s));
    }
  });
});
