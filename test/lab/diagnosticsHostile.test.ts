import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { labUnavailable, nodeIps, nodeNames, repoRoot, ssh } from './labHelpers';

// Hostile log lines and a hostile iptables comment through the real CLI (`diagnose --apply --yes`) on the
// real lab: no canary file appears on any node (checked over ssh with the lab key) or here, every fix either
// runs the intended command on the intended object or is refused with a reason, and the plan printed is the
// command that ran. Everything created here is removed in finally/after.

const skip = labUnavailable();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-hostile-lab-'));
const env = { ...process.env, DOCKER_NET_LAB_PROGRESS: path.join(work, 'progress.json') };
const [node1Ip, node2Ip] = nodeIps;
const [node1, node2] = nodeNames;
const canaryPrefix = '/tmp/dnl-hostile-canary';
const okName = 'dnlhostile-ok';

function cli(...args: string[]): Cmd {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args], { encoding: 'utf8', timeout: 300_000, env, maxBuffer: 16 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

/** Canary files on either node (over ssh) or on this machine. */
function canaries(): string[] {
  const found: string[] = [];
  for (const ip of nodeIps) {
    const r = ssh(ip, `ls -d ${canaryPrefix}* 2>/dev/null; true`);
    assert.equal(r.code, 0, `ssh ${ip}: ${r.err}`);
    found.push(...r.out.split('\n').filter((l) => l !== '').map((l) => `${ip}:${l}`));
  }
  found.push(...fs.readdirSync('/tmp').filter((f) => f.startsWith(path.basename(canaryPrefix))).map((f) => `local:/tmp/${f}`));
  return found;
}

/** The `[node]$ command` lines the CLI printed for the fixes (before the step verification that follows, `== …`). */
function printedCommands(out: string): { node: string; command: string }[] {
  const fixes = out.split(/^== /m)[0] ?? '';
  return [...fixes.matchAll(/^\[([^\]]+)\]\$ (.*)$/gm)].map((m) => ({ node: m[1] ?? '', command: m[2] ?? '' }));
}

function cleanupNodes(): void {
  for (const ip of nodeIps) { ssh(ip, `docker rm -f ${okName} >/dev/null 2>&1; rm -f ${canaryPrefix}*; true`); }
  fs.readdirSync('/tmp').filter((f) => f.startsWith(path.basename(canaryPrefix))).forEach((f) => fs.rmSync(`/tmp/${f}`, { force: true }));
}

describe('hostile facts through diagnose --apply --yes on the real lab', { skip }, () => {
  before(() => { cleanupNodes(); assert.deepEqual(canaries(), []); });
  after(() => {
    try { cleanupNodes(); } finally { fs.rmSync(work, { recursive: true, force: true }); }
  });

  it('hostile log lines: every payload is refused with a reason, the valid line\'s fix runs on the --node node, as printed', () => {
    const image = ssh(node1Ip, "docker images --format '{{.Repository}}:{{.Tag}}' | grep -m1 '^busybox:'").out.trim();
    assert.notEqual(image, '', 'no busybox image on node1');
    const made = ssh(node1Ip, `docker run -d --name ${okName} ${image} sleep 600`);
    assert.equal(made.code, 0, made.err);
    const journal = 'Dec  3 14:00:00 docker-node2 dockerd[812]: ';
    const lines = [
      `${journal}docker: Error response from daemon: endpoint with name x;touch\${IFS}${canaryPrefix}-semicolon already exists in network my-overlay.`,
      `docker: Error response from daemon: Conflict. The container name "/web\`touch ${canaryPrefix}-backtick\`" is already in use by container "3f2a9c".`,
      `docker: Error response from daemon: Conflict. The container name "/web$(touch ${canaryPrefix}-dollar)" is already in use by container "3f2a9c".`,
      `docker: Error response from daemon: Conflict. The container name "/web\rdocker ps\x1b[2K && touch ${canaryPrefix}-cr" is already in use by container "3f2a9c".`,
      `docker: Error response from daemon: endpoint with name web|touch\${IFS}${canaryPrefix}-pipe\u202e already exists in network my-overlay.`,
      `docker: Error response from daemon: Conflict. The container name "/web'\\n;touch ${canaryPrefix}-quote;'" is already in use by container "3f2a9c".`,
      // valid: its journal host says docker-node2, --node says docker-node1 (where the container is)
      `${journal}docker: Error response from daemon: endpoint with name ${okName} already exists in network my-overlay.`,
    ];
    const file = path.join(work, 'hostile.log');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const r = cli('diagnose', file, '--apply', '--yes', '--node', node1);
    const all = `${r.out}\n${r.err}`;
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.doesNotMatch(all, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, 'the output holds raw control characters');
    assert.deepEqual(canaries(), [], `a payload ran:\n${all}`);
    const refused = all.match(/not applied: the fix is not available: the container "[^\n]*" is not a valid container name/g) ?? [];
    assert.equal(refused.length, 6, `each hostile line is refused with its reason:\n${all}`);
    const ran = printedCommands(r.out);
    assert.deepEqual(ran, [{ node: node1, command: `docker rm -f ${okName}` }], all);
    assert.equal(ssh(node1Ip, `docker inspect ${okName} >/dev/null 2>&1`).code === 0, false, `the printed command did not run on ${node1}:\n${all}`);
    assert.match(r.out, new RegExp(`fix applied on ${node1}`));
  });

  it('a DROP rule with a $(…) comment: diagnose --state --apply --yes deletes it exactly, the comment never runs, the firewall is fixed', () => {
    const comment = `$(touch ${canaryPrefix}-iptables) \`touch ${canaryPrefix}-iptables2\``;
    const spec = `-p tcp -m tcp --dport 2377 -m comment --comment '${comment}' -j DROP`;
    const add = ssh(node2Ip, `iptables -A INPUT ${spec}`);
    assert.equal(add.code, 0, add.err);
    try {
      const r = cli('diagnose', '--state', '--apply', '--yes');
      const all = `${r.out}\n${r.err}`;
      assert.match(r.out, new RegExp(`${node2} blocks 2377/tcp`), all);
      assert.deepEqual(canaries(), [], `the comment ran:\n${all}`);
      const ran = printedCommands(r.out).filter((c) => c.node === node2);
      assert.equal(ran[0]?.command, `iptables -D INPUT ${spec}`, all);
      assert.ok(!ran.some((c) => /\beval\b/.test(c.command)), all);
      const now = ssh(node2Ip, 'iptables -S INPUT').out;
      assert.doesNotMatch(now, /--dport 2377 .*-j DROP/, `the firewall is not fixed:\n${now}\n${all}`);
      const again = cli('diagnose', '--state');
      assert.doesNotMatch(again.out, /blocks 2377/, again.out);
    } finally {
      ssh(node2Ip, `while iptables -D INPUT ${spec} 2>/dev/null; do :; done; iptables -D INPUT -p tcp --dport 2377 -j ACCEPT 2>/dev/null; true`);
    }
  });
});
