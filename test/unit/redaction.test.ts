import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createStreamRedactor, redact, registerSecret } from '../../src/core/logger';

// The stream redactor must give, chunk by chunk, what redact() gives for the whole stream: a secret
// or a private-key block split at any point between two chunks is masked, and ordinary output is
// passed on at once (not held back until the end).

const secret = `S3cr-${randomBytes(6).toString('hex')}-x`;
const other = `Oth-${randomBytes(4).toString('hex')}`;
registerSecret(secret);
registerSecret(other);

function streamed(chunks: readonly string[]): { parts: string[]; joined: string } {
  const r = createStreamRedactor();
  const parts = chunks.map((c) => r.write(c));
  parts.push(r.end());
  return { parts, joined: parts.join('') };
}

describe('stream redaction', () => {
  it('masks a secret split at every possible point between two chunks', () => {
    const text = `before ${secret} middle ${other} after\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      const { parts, joined } = streamed([text.slice(0, cut), text.slice(cut)]);
      assert.equal(joined, `before *** middle *** after\n`, `cut at ${cut}`);
      for (const p of parts) {
        assert.ok(!p.includes(secret.slice(0, 5)) && !p.includes(secret.slice(-5)), `cut at ${cut}: a part shows a piece of the secret: ${p}`);
      }
    }
  });

  it('masks a secret that arrives one character per chunk, and equals redact() of the whole stream', () => {
    const text = `a${secret}b${secret}${other}c`;
    const { parts, joined } = streamed([...text]);
    assert.equal(joined, redact(text));
    assert.equal(joined, 'a***b******c');
    assert.ok(parts.every((p) => !p.includes(secret.slice(0, 2))), 'no part shows the start of the secret');
  });

  it('masks a private-key block split across chunks', () => {
    const body = randomBytes(300).toString('base64').replace(/(.{64})/g, '$1\n');
    const text = `key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\ndone\n`;
    for (const size of [1, 7, 40, 100]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) { chunks.push(text.slice(i, i + size)); }
      const { parts, joined } = streamed(chunks);
      assert.equal(joined, 'key:\n***\ndone\n', `chunks of ${size}`);
      assert.ok(parts.every((p) => !p.includes(body.slice(0, 20))), `chunks of ${size}: the key body shows`);
    }
  });

  it('passes ordinary output on at once and holds back only a tail that may begin a secret', () => {
    const r = createStreamRedactor();
    assert.equal(r.write('line one\n'), 'line one\n');
    assert.equal(r.write(`progress ${secret.slice(0, 3)}`), 'progress ');
    assert.equal(r.write('zz\n'), `${secret.slice(0, 3)}zz\n`);
    assert.equal(r.end(), '');
  });

  it('gives back what was held at the end of the stream', () => {
    const r = createStreamRedactor();
    assert.equal(r.write(`x ${secret.slice(0, -1)}`), 'x ');
    assert.equal(r.end(), secret.slice(0, -1));
  });
});
