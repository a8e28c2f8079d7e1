import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatFindings } from '../../src/core/diagnostics/formatFindings';
import { diagnoseText } from '../../src/core/diagnostics/matcher';
import { displayJson, displayText, hasUnsafeDisplayChars, quoteUserText, userTextMaxChars } from '../../src/core/util/displayText';
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

describe('displayText (every text shown to the user)', () => {
  it('escapes ANSI, \\r, C1, DEL and bidi marks; keeps \\n only when multiline', () => {
    assert.equal(displayText('docker rm -f x\r\x1b[2Kharmless'), 'docker rm -f x\\r\\x1b[2Kharmless');
    assert.equal(displayText('a\u202eb\u2067c\u200fd\x9b\x7f'), 'a\\u202eb\\u2067c\\u200fd\\x9b\\x7f');
    assert.equal(displayText('one\ntwo\r'), 'one\\ntwo\\r');
    assert.equal(displayText('one\ntwo\r', { multiline: true }), 'one\ntwo\\r');
    assert.equal(displayText('docker rm -f web-1'), 'docker rm -f web-1');
    assert.ok(hasUnsafeDisplayChars('a\nb') && !hasUnsafeDisplayChars('docker ps'));
  });

  it('never lets a control or bidi character through, whatever the input', () => {
    for (const s of hostileStrings(500, 13, 'canary')) {
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      assert.doesNotMatch(displayText(s), /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/, JSON.stringify(s));
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      assert.doesNotMatch(displayText(s, { multiline: true }), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(s));
    }
  });

  it('displayJson is the same JSON, with C1/bidi written as \\u escapes', () => {
    const v = { a: 'x\x1b[2K\u202e\x9by', n: 1 };
    const out = displayJson(v);
    assert.deepEqual(JSON.parse(out), v);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.doesNotMatch(out, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
  });

  it('the diagnose report (formatFindings) shows a hostile log line escaped, in title, cause, fix and reason', () => {
    const findings = diagnoseText('docker: Error response from daemon: Conflict. The container name "/web\r\x1b[2Kok\u202e" is already in use by container "3f2a9c".');
    assert.ok(findings.length > 0);
    const report = formatFindings(findings.map((f) => ({ ...f, title: `${f.title}\x1b[31m` })), 'log\r.txt');
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.doesNotMatch(report, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    assert.match(report, /log\\r\.txt/);
    assert.match(report, /fix not available: the container "web\\r\\x1b\[2Kok\\u202e" is not a valid container name/);
  });
});
