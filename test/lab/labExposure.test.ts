import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { ensureLabUp, lab, labUnavailable, nodeIps, nodeNames, repoRoot, sh, ssh } from './labHelpers';

// What the lab exposes to local users of this machine (docs/lab.md "What the lab exposes"): dockerd's TCP 2375
// and etcd's 2379/2380 answer the lab's nodes only; an unprivileged user reaches the nodes' sshd, not them.
const skip = labUnavailable();

/** Runs a program as the unprivileged user nobody (no supplementary groups). */
function asNobody(cmd: string, ...args: string[]): Cmd {
  return sh('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', cmd, ...args], 30_000);
}

/** Runs a program inside a node's network namespace (the way the lab itself reaches the guarded ports). */
function inNode(node: string, cmd: string, ...args: string[]): Cmd {
  return sh('nsenter', [`--net=/run/netns/${node}`, '--', cmd, ...args], 30_000);
}

const guarded = [[2375, '/_ping'], [2379, '/version'], [2380, '/version']] as const;
/** curl's exit code for "operation timed out": the guard drops, so a connection never completes. */
const curlTimedOut = 28;

/** curl as nobody, all node/port pairs at once (each waits up to 3 s). */
async function assertClosedToNobody(what: string): Promise<void> {
  const tries = nodeIps.flatMap((ip) => guarded.map(([port, urlPath]) => `http://${ip}:${port}${urlPath}`));
  const results = await Promise.all(tries.map((url) => new Promise<{ url: string; code: number; out: string }>((resolve) => {
    execFile('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'curl', '-sS', '-m', '3', url], { timeout: 30_000 },
      (e, stdout, stderr) => resolve({ url, code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, out: stdout + stderr }));
  })));
  for (const r of results) {
    assert.equal(r.code, curlTimedOut, `${what}: nobody reached ${r.url} (curl exit ${r.code}): ${r.out}`);
  }
}

describe('the lab is not a root shell for local users', { skip }, () => {
  before(() => ensureLabUp());

  it('an unprivileged local user reaches the nodes (sshd on 22) but not dockerd 2375 or etcd 2379/2380 of either node', async () => {
    for (const ip of nodeIps) {
      const reach = asNobody('bash', '-c', `exec 3<>/dev/tcp/${ip}/22 && head -c 4 <&3`);
      assert.equal(reach.out, 'SSH-', `nobody connects to ${ip}:22 (so a closed port below is the guard, not the network): ${reach.err}`);
    }
    await assertClosedToNobody('clean lab');
  });

  it('inside the lab the ports answer: from node2 (its namespace, and over ssh with the docker CLI) node1 dockerd and etcd', () => {
    const ping = inNode(nodeNames[1], 'curl', '-sS', '-m', '3', `http://${nodeIps[0]}:2375/_ping`);
    assert.equal(ping.out, 'OK', ping.err);
    const version = inNode(nodeNames[1], 'curl', '-sS', '-m', '3', `http://${nodeIps[0]}:2379/version`);
    assert.match(version.out, /"etcdserver":"3\./, version.err);
    const cli = ssh(nodeIps[1], `docker -H tcp://${nodeIps[0]}:2375 info --format '{{.Name}}'`);
    assert.equal(cli.out.trim(), nodeNames[0], cli.err);
    const etcd = ssh(nodeIps[1], `ETCDCTL_API=2 etcdctl --endpoints http://${nodeIps[0]}:2379 cluster-health`);
    assert.match(etcd.out, /cluster is healthy/, etcd.err);
  });

  it('a learner\'s "iptables -I INPUT -p tcp --dport 2375 -j ACCEPT" on node1 does not reopen 2375 to the machine', (t) => {
    const rule = 'INPUT -p tcp --dport 2375 -j ACCEPT';
    t.after(() => { ssh(nodeIps[0], `while iptables -D ${rule} 2>/dev/null; do :; done`); });
    const add = ssh(nodeIps[0], `iptables -I ${rule}`);
    assert.equal(add.code, 0, add.err);
    const r = asNobody('curl', '-sS', '-m', '3', `http://${nodeIps[0]}:2375/_ping`);
    assert.equal(r.code, curlTimedOut, `nobody reached 2375 after the ACCEPT rule (curl exit ${r.code}): ${r.out}`);
  });

  it('diagnose --state on the clean lab reports no firewall finding (the guard is not in INPUT)', () => {
    const r = sh(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'diagnose', '--state', '--json'], 120_000);
    assert.equal(r.code, 0, r.err);
    const findings = (JSON.parse(r.out) as { findings: { ruleId: string }[] }).findings;
    assert.deepEqual(findings.filter((f) => f.ruleId.includes('firewall')).map((f) => f.ruleId), []);
  });

  it('lab up on the running lab keeps one guard (idempotent), and the ports stay closed', async () => {
    const r = lab('up');
    assert.equal(r.code, 0, r.out + r.err);
    for (const node of nodeNames) {
      const rules = inNode(node, 'iptables', '-w', '-t', 'raw', '-S', 'PREROUTING');
      assert.equal((rules.out.match(/-j DNL-LAB-GUARD/g) ?? []).length, 1, `${node}: ${rules.out}`);
    }
    await assertClosedToNobody('after a second lab up');
  });
});
