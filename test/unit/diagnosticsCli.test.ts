import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/cliIo';
import { main } from '../../src/cli/main';

function io(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => { out += t; }, err: (t) => { err += t; }, env: {}, signal: new AbortController().signal, stdout: () => out, stderr: () => err };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-diag-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const log = path.join(dir, 'out.log');
fs.writeFileSync(log, [
  '$ docker run -d --name web nginx',
  'docker: Error response from daemon: Conflict. The container name "/web" is already in use by container "b181eadfe65d". You have to remove (or rename) that container to be able to reuse that name.',
  '$ curl http://127.0.0.1',
  'curl: (7) Failed to connect to 127.0.0.1 port 80 after 0 ms: Connection refused',
].join('\n'));
const script = path.join(dir, 'ch4.sh');
fs.writeFileSync(script, 'docker run -d --name redis -net my-overlay redis\netcdctl cluster-health\n');

describe('docker-net-lab diagnose / lint', () => {
  it('diagnose FILE prints each finding with its line, cause and filled fix; exit 0', async () => {
    const c = io();
    assert.equal(await main(['diagnose', log], c), 0);
    assert.match(c.stdout(), /out\.log:2: error \[container-name-conflict\]/);
    assert.match(c.stdout(), /docker rm -f web/);
    assert.match(c.stdout(), /out\.log:4: warning \[curl-connection-refused-no-publish\]/);
    assert.match(c.stdout(), /2 finding\(s\)/);
  });

  it('diagnose --json gives objects with id, title, cause, fix and line', async () => {
    const c = io();
    assert.equal(await main(['diagnose', log, '--json', '--node', 'docker-node1'], c), 0);
    const parsed = JSON.parse(c.stdout()) as { id: string; title: string; cause: string; fix: string; line: number; facts: Record<string, string> }[];
    assert.deepEqual(parsed.map((f) => [f.id, f.line]), [['container-name-conflict', 2], ['curl-connection-refused-no-publish', 4]]);
    for (const f of parsed) { assert.ok(f.title !== '' && f.cause !== '' && f.fix !== ''); }
    assert.match(parsed[1]!.fix, /-p 80:80/);
    assert.equal(parsed[0]!.facts['node'], 'docker-node1');
  });

  it('a clean file is fine (exit 0); a missing file or a bad option is a usage error (exit 2)', async () => {
    const clean = path.join(dir, 'clean.log');
    fs.writeFileSync(clean, 'hello\n');
    const c = io();
    assert.equal(await main(['diagnose', clean], c), 0);
    assert.match(c.stdout(), /no known problem/);
    assert.equal(await main(['diagnose', path.join(dir, 'missing.log')], io()), 2);
    assert.equal(await main(['diagnose', log, '--bogus'], io()), 2);
    assert.equal(await main(['diagnose', log, log], io()), 2);
  });

  it('lint FILE prints file:line:column findings; --json lists id, range and quick fix', async () => {
    const c = io();
    assert.equal(await main(['lint', script], c), 0);
    assert.match(c.stdout(), /ch4\.sh:1:28: error .*--net.* \[lint-single-dash-long-flag\]/);
    assert.match(c.stdout(), /ch4\.sh:2:1: warning .*\[lint-etcdctl-v2-command\]/);
    const j = io();
    assert.equal(await main(['lint', script, '--json', '--docker-version', '26.1.5'], j), 0);
    const parsed = JSON.parse(j.stdout()) as { id: string; line: number; column: number; quickFix?: { edits: unknown[] } }[];
    assert.deepEqual(parsed.map((f) => [f.id, f.line, f.column]), [['lint-single-dash-long-flag', 1, 28], ['lint-etcdctl-v2-command', 2, 1]]);
    assert.ok(parsed.every((f) => (f.quickFix?.edits.length ?? 0) > 0));
  });

  it('lint without a file or with an unreadable one exits 2', async () => {
    assert.equal(await main(['lint'], io()), 2);
    assert.equal(await main(['lint', path.join(dir, 'nope.sh')], io()), 2);
  });
});
