import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { renderTemplate, validateCapture } from '../../src/core/lab/template';
import { labNodesFile } from '../../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { formatNodesFile, parseNodeConfig, readNodesFile } from '../../src/core/nodes/nodesFile';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { shellQuote } from '../../src/core/util/shellQuote';
import { hostileStrings, seededRandom } from '../unit/hostileStrings';
import { repoRoot } from './labHelpers';

// Live half of the security fuzz: hostile values that the core accepts are run on node1 through the real
// command path (template rendering + NodeSession.exec over one SSH session) and must come back byte for
// byte, while a canary file inside node1 that every payload would create must never appear.

const sample = 300;
const canary = `/tmp/dnl-canary-${randomBytes(6).toString('hex')}`;
let node1: NodeConfig | undefined;
let skipReason: string | undefined;
let tmp = '';
const cli = path.join(repoRoot, 'bin', 'docker-net-lab.js');

function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000, env }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('security fuzz against node1', () => {
  before(async () => {
    const file = labNodesFile();
    if (process.getuid?.() !== 0 || !fs.existsSync(file)) { skipReason = `the local lab is not up (no ${file}; run "docker-net-lab lab up" as root)`; return; }
    try {
      node1 = readNodesFile(file).nodes[0];
      const s = new NodeSession(node1!, { reconnect: false, readyTimeoutMs: 5000 });
      try { await s.exec('true', { timeoutMs: 10_000 }); } finally { s.dispose(); }
    } catch (e) {
      skipReason = `node1 is not reachable: ${e instanceof Error ? e.message : String(e)}`;
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-secfuzz-lab-'));
  });
  after(() => { if (tmp !== '') { fs.rmSync(tmp, { recursive: true, force: true }); } });

  it(`runs ${sample} accepted hostile values on node1 over one SSH session: each comes back unchanged, the canary never appears`, async (t) => {
    if (skipReason !== undefined || node1 === undefined) { t.skip(skipReason ?? 'no node1'); return; }
    const inputs = hostileStrings(10_000, 0x5eed, canary);
    // what the core accepts: NUL-free values go through shellQuote/templates; captures and node fields are
    // validated first, and the values they let through are part of the sample too
    const quotable = inputs.filter((s) => !s.includes('\0'));
    const validated = inputs.filter((s) => {
      try { validateCapture(s, 'token', 'cap.x'); parseNodeConfig({ name: s, host: '10.99.0.11', port: 22, user: 'root', auth: 'agent' }); return true; } catch { return false; }
    });
    const rnd = seededRandom(99);
    const fixedCount = 80; // the hand-written payloads first: every one of them targets the canary
    const picked = [...quotable.slice(0, fixedCount), ...validated.slice(0, 20)];
    while (picked.length < sample) { picked.push(quotable[Math.floor(rnd() * quotable.length)]!); }
    const session = new NodeSession(node1, { reconnect: false });
    let ran = 0;
    const t0 = Date.now();
    try {
      const pre = await session.exec(`test -e ${shellQuote(canary)}`, { timeoutMs: 10_000 });
      assert.equal(pre.code, 1, 'the canary must not exist before the run');
      for (const [i, s] of picked.entries()) {
        // alternate the two ways a value reaches a command: a lab template and a hand-built shellQuote line
        const command = i % 2 === 0 ? renderTemplate('printf %s {{cap.value}}', { 'cap.value': s }) : `printf '%s' ${shellQuote(s)}`;
        const r = await session.exec(command, { timeoutMs: 20_000 });
        assert.equal(r.code, 0, `value ${i} ${JSON.stringify(s.slice(0, 80))}: ${r.stderr}`);
        assert.equal(r.stdout, s, `value ${i} came back changed`);
        ran++;
      }
      const post = await session.exec(`test -e ${shellQuote(canary)}`, { timeoutMs: 10_000 });
      assert.equal(post.code, 1, `a payload ran on node1: ${canary} exists`);
    } finally {
      await session.exec(`rm -f ${shellQuote(canary)}`, { timeoutMs: 10_000 }).catch(() => undefined);
      session.dispose();
      process.stdout.write(`# security fuzz (lab): ${ran} accepted values ran on node1 in ${Date.now() - t0} ms (strings tried 10000; quotable ${quotable.length}; passed node+capture validation ${validated.length})\n`);
    }
    assert.equal(ran, sample);
  });

  it('CLI: tree --nodes FILE with a wrong pinned fingerprint is refused (exit ≠ 0, names the fingerprint) and nothing runs', async (t) => {
    if (skipReason !== undefined || node1 === undefined) { t.skip(skipReason ?? 'no node1'); return; }
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'fake_host')]);
    const fake = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(tmp, 'fake_host.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const file = path.join(tmp, 'nodes.json');
    fs.writeFileSync(file, formatNodesFile({ version: 1, source: 'user', nodes: [{ ...node1, hostKeyFingerprints: [fake] }] }));
    const r = await runCli(['tree', '--nodes', file]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(`${r.stdout}${r.stderr}`.includes(fake), `output names the pinned fingerprint:\n${r.stdout}\n${r.stderr}`);
    // a hostile nodes file is refused before any connection, naming the file and the field
    const hostile = path.join(tmp, 'hostile.json');
    fs.writeFileSync(hostile, JSON.stringify({ version: 1, source: 'user', nodes: [{ ...node1, host: `-oProxyCommand=touch ${canary}` }] }));
    const h = await runCli(['tree', '--nodes', hostile]);
    assert.notEqual(h.code, 0);
    assert.ok(h.stderr.includes(hostile) && h.stderr.includes('/host'), h.stderr);
    const s = new NodeSession(node1, { reconnect: false });
    try {
      assert.equal((await s.exec(`test -e ${shellQuote(canary)}`, { timeoutMs: 10_000 })).code, 1);
    } finally { s.dispose(); }
    assert.ok(!fs.existsSync(canary));
  });

  it('a hostile step id on the CLI is refused and runs nothing', async (t) => {
    if (skipReason !== undefined || node1 === undefined) { t.skip(skipReason ?? 'no node1'); return; }
    const progress = path.join(tmp, 'progress.json');
    const env = { ...process.env, DOCKER_NET_LAB_PROGRESS: progress };
    for (const id of [`$(touch ${canary})`, `;touch ${canary}`, `-oProxyCommand=touch ${canary}`, '../../etc/passwd']) {
      const r = await runCli(['run', id, '--yes'], env);
      assert.ok(r.code === 1 || r.code === 2, `${id}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    const s = new NodeSession(node1, { reconnect: false });
    try {
      assert.equal((await s.exec(`test -e ${shellQuote(canary)}`, { timeoutMs: 10_000 })).code, 1);
    } finally { s.dispose(); }
  });
});
