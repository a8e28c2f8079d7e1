import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { shellJoin, shellQuote } from '../../src/core/util/shellQuote';

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    assert.equal(shellQuote('my-overlay'), 'my-overlay');
    assert.equal(shellQuote('10.99.0.11:2375'), '10.99.0.11:2375');
  });
  it('quotes words a shell would expand, and a real sh reads them back unchanged', () => {
    const hostile = ["it's", '$(touch /tmp/x)', '`id`', 'a b', '', '-rf', 'x;y', 'new\nline', "'\"'"];
    for (const word of hostile) {
      const echoed = execFileSync('sh', ['-c', `printf %s ${shellQuote(word)}`]).toString();
      assert.equal(echoed, word);
    }
  });
  it('joins arguments', () => {
    assert.equal(shellJoin(['docker', 'network', 'create', 'a b']), "docker network create 'a b'");
  });
});
