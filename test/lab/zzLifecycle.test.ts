import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { holdLabLock, lab, labUnavailable, nodeIps, nodeNames, releaseLabLock, sh, ssh, stateDir } from './labHelpers';

// Runs last (file name): tears the shared lab down and brings it back as it found it.
const skip = labUnavailable();

/** iptables-save of the root namespace without comments and counters. */
function rootIptables(): string {
  const r = sh('iptables-save', []);
  return r.out.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
}

function labNetns(): string[] {
  return sh('ip', ['netns', 'list']).out.split('\n').map((l) => l.split(' ')[0] ?? '')
    .filter((n) => ['docker-node1', 'docker-node2', 'lab-switch'].includes(n));
}

function pidfilePids(): number[] {
  const pids: number[] = [];
  for (const n of nodeNames) {
    for (const f of ['anchor', 'sshd', 'etcd', 'dockerd']) {
      try { pids.push(Number.parseInt(fs.readFileSync(`${stateDir}/nodes/${n}/run/${f}.pid`, 'utf8'), 10)); } catch { /* none */ }
    }
  }
  return pids.filter((p) => Number.isInteger(p) && p > 1);
}

function netnsPids(): number[] {
  return nodeNames.flatMap((n) => sh('ip', ['netns', 'pids', n]).out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number));
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function ourMounts(): string[] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(stateDir) || m.startsWith('/run/netns'));
}

/** Everything down leaves behind; empty when the teardown was complete. */
function leftovers(watched: readonly number[], ipt: string): string[] {
  const out: string[] = [];
  const ns = labNetns();
  if (ns.length > 0) { out.push(`netns ${ns.join(',')}`); }
  if (sh('ip', ['link', 'show', 'dev', 'lab0']).code === 0) { out.push('veth lab0'); }
  const m = ourMounts();
  // /run/netns may stay only when namespaces that are not the lab's still exist
  const otherNs = sh('ip', ['netns', 'list']).out.trim() !== '';
  const bad = m.filter((x) => x.startsWith(stateDir) || !otherNs);
  if (bad.length > 0) { out.push(`mounts ${bad.join(',')}`); }
  const live = watched.filter(alive);
  if (live.length > 0) { out.push(`live pids ${live.join(',')}`); }
  if (rootIptables() !== ipt) { out.push('root iptables changed'); }
  if (fs.existsSync(`${stateDir}/nodes.json`)) { out.push('nodes.json still there'); }
  return out;
}

/**
 * The container of the SIGKILL test (it was unnamed and stayed on node1 as "Exited (255)" once dockerd came
 * back). Named, so cleanup finds it, and `--rm`: dockerd's restore removes auto-remove containers that died.
 */
const sleeper = `dnl-life-sleeper-${process.pid}`;

/** Removes {@link sleeper} from node1 when its dockerd answers (over ssh: the lab's dockerd port need not be open to this machine). */
function removeSleeper(): string {
  const r = ssh(nodeIps[0], `docker rm -f ${sleeper} >/dev/null 2>&1; docker ps -aq --filter name=^${sleeper}$`);
  return r.code === 0 ? r.out.trim() : `(ssh failed: ${r.err.trim()})`;
}

describe('local lab lifecycle (down, up twice, daemons killed from outside)', { skip }, () => {
  let wasUp = false;
  let ipt = '';

  before(async () => {
    await holdLabLock();
    wasUp = lab('status').code === 0;
    ipt = rootIptables();
  });

  after(() => {
    try {
    // restore the shared lab as we found it
      if (wasUp && lab('status').code !== 0) {
        const r = lab('up');
        assert.equal(r.code, 0, r.out + r.err);
      }
      // the SIGKILL test's container (also when that test failed half-way): nothing of this file stays on node1
      if (wasUp || lab('status').code === 0) { assert.equal(removeSleeper(), '', `${sleeper} is gone from docker-node1`); }
    } finally {
      releaseLabLock();
    }
  });

  it('down removes namespaces, veth, mounts, processes, nodes file and changes no root iptables rule', () => {
    if (lab('status').code !== 0) { assert.equal(lab('up').code, 0); }
    const watched = [...pidfilePids(), ...netnsPids()];
    assert.ok(watched.length >= 8, `expected the lab's daemons, got pids ${watched.join(',')}`);
    const r = lab('down');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /total \d+ ms/);
    assert.deepEqual(leftovers(watched, ipt), []);
    assert.equal(lab('status').code, 1, 'status exits 1 when the lab is down');
  });

  it('up twice: the second is a fast no-op that says the lab is up', () => {
    const first = lab('up');
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /lab is up/);
    const second = lab('up');
    assert.equal(second.code, 0, second.out + second.err);
    assert.match(second.out, /already up/);
    assert.ok(second.ms < 10_000, `warm up took ${second.ms} ms`);
    assert.equal(lab('status').code, 0);
    assert.equal(rootIptables(), ipt);
  });

  it('up repairs a daemon killed from outside', () => {
    const pid = Number.parseInt(fs.readFileSync(`${stateDir}/nodes/docker-node2/run/sshd.pid`, 'utf8'), 10);
    process.kill(pid, 'SIGKILL');
    assert.equal(lab('status').code, 1);
    const r = lab('up');
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(lab('status').code, 0);
  });

  it('down still cleans everything after dockerd, etcd and sshd were SIGKILLed with a container running', () => {
    const run = sh('nsenter', ['--net=/run/netns/docker-node1', '--', '/usr/bin/docker', '-H', 'tcp://127.0.0.1:2375', 'run', '-d', '--rm', '--name', sleeper, 'busybox', 'sleep', '3600']);
    assert.equal(run.code, 0, run.err);
    const cpid = Number.parseInt(sh('nsenter', ['--net=/run/netns/docker-node1', '--', '/usr/bin/docker', '-H', 'tcp://127.0.0.1:2375', 'inspect', '-f', '{{.State.Pid}}', run.out.trim()]).out, 10);
    assert.ok(alive(cpid), 'container process runs');
    const watched = [...pidfilePids(), ...netnsPids(), cpid];
    for (const f of ['dockerd', 'etcd', 'sshd']) {
      process.kill(Number.parseInt(fs.readFileSync(`${stateDir}/nodes/docker-node1/run/${f}.pid`, 'utf8'), 10), 'SIGKILL');
    }
    const r = lab('down');
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(leftovers(watched, ipt), []);
  });

  it('up after every lab process was SIGKILLed (stale namespaces and pidfiles) cleans up and comes back', () => {
    assert.equal(lab('up').code, 0);
    const watched = [...pidfilePids(), ...netnsPids()];
    for (const p of watched) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    assert.notEqual(labNetns().length, 0, 'namespaces stay behind after the processes died');
    const r = lab('up');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /earlier lab session/);
    assert.equal(lab('status').code, 0);
    assert.deepEqual(watched.filter(alive), []);
  });

  it('a half-failed up (anchors only) is cleaned by down', () => {
    // simulate an up that died after creating the network: bring up, then kill every daemon but the anchors
    assert.equal(lab('up').code, 0);
    for (const n of nodeNames) {
      for (const f of ['dockerd', 'etcd', 'sshd']) {
        process.kill(Number.parseInt(fs.readFileSync(`${stateDir}/nodes/${n}/run/${f}.pid`, 'utf8'), 10), 'SIGKILL');
      }
    }
    const watched = [...pidfilePids(), ...netnsPids()];
    const r = lab('down');
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(leftovers(watched, ipt), []);
  });
});
