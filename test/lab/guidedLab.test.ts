import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { checkAppAcrossNodes, lab, labUnavailable, nodeIps, repoRoot, sh, ssh } from './labHelpers';

// The whole guided lab against the shared local lab, through the real CLI (bin/docker-net-lab.js) over SSH.
// It changes the lab's Docker state and always ends with `reset --yes`, so the lab is back to fresh.

interface StepJson { stepId: string; status: string; message: string; alreadyInPlace?: boolean; supersededBy?: string }
interface RunJson { ok: boolean; results: StepJson[] }

const progressDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guided-lab-progress-'));
const env = { ...process.env, DOCKER_NET_LAB_PROGRESS: path.join(progressDir, 'progress.json') };

function cli(...args: string[]): Cmd & { json?: RunJson } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args],
    { encoding: 'utf8', timeout: 900_000, env, maxBuffer: 64 * 1024 * 1024 });
  const out: Cmd & { json?: RunJson } = { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
  if (args.includes('--json')) {
    try { out.json = JSON.parse(r.stdout) as RunJson; } catch { /* reported by the assertion below */ }
  }
  return out;
}

function describeRun(r: Cmd & { json?: RunJson }): string {
  const bad = r.json?.results.filter((x) => x.status !== 'passed' && x.status !== 'skipped').map((x) => `${x.stepId}: ${x.status}: ${x.message}`) ?? [];
  return `exit ${r.code} after ${r.ms} ms; ${bad.join('\n') || r.err.slice(-2000)}`;
}

const labContainers = ['web', 'test1', 'test2', 'nginx-host1', 'nginx-host2', 'redis', 'flask-redis'];
const labNetworks = ['bridge', 'host', 'none', 'my-overlay', 'ingress'];

/** What reset must restore on one node (other helpers' containers and networks on the shared lab are left out). */
function snapshot(ip: string): Record<string, string> {
  const q = (c: string): string => {
    const r = ssh(ip, c);
    assert.equal(r.code, 0, `${ip}: ${c}: ${r.err}`);
    return r.out.trim();
  };
  return {
    containers: q("docker ps -a --format '{{.Names}}'").split('\n').filter((n) => labContainers.includes(n)).sort().join(' '),
    networks: q("docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}'").split('\n').filter((l) => labNetworks.includes(l.split(' ')[0] ?? '')).sort().join(', '),
    images: q("docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'").split('\n').filter((l) => /^(nginx|redis|busybox|flask-redis|lab\/|docker-net-lab\/|<none>)/.test(l)).sort().join(', '),
    dockerdFlags: q('lab-dockerd flags'),
    swarm: q("docker info -f '{{.Swarm.LocalNodeState}}'"),
  };
}

const skip = ((): string | undefined => {
  const why = labUnavailable();
  if (why !== undefined) { return why; }
  const st = lab('status');
  return st.code === 0 ? undefined : `the local lab is not up ("docker-net-lab lab status" exit ${st.code}); start it with "docker-net-lab lab up"`;
})();

describe('guided lab on the local lab (CLI end to end)', { concurrency: 1 }, () => {
  const fresh: Record<string, Record<string, string>> = {};

  before(() => {
    if (skip !== undefined) { process.stdout.write(`guided lab tests skipped: ${skip}\n`); return; }
    const r = cli('reset', '--yes');
    assert.equal(r.code, 0, `reset before the test: ${r.err}`);
    for (const ip of nodeIps) { fresh[ip] = snapshot(ip); }
    process.stdout.write(`fresh state: ${JSON.stringify(fresh)}\n`);
  });

  after(() => {
    if (skip !== undefined) { return; }
    const r = cli('reset', '--yes');
    process.stdout.write(`final reset: exit ${r.code} in ${r.ms} ms\n`);
    fs.rmSync(progressDir, { recursive: true, force: true });
  });

  it('steps lists every step', { skip: skip ?? false }, () => {
    const r = cli('steps', '--json');
    assert.equal(r.code, 0);
    const steps = (JSON.parse(r.out) as { steps: { id: string }[] }).steps;
    assert.equal(steps.length, 26);
  });

  it('run --all on the cluster-store path passes every chapter', { skip: skip ?? false, timeout: 900_000 }, () => {
    const r = cli('run', '--all', '--path', 'cluster-store', '--yes', '--json');
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(r.json?.ok === true);
    const byId = new Map(r.json.results.map((x) => [x.stepId, x.status]));
    assert.equal(byId.size, 26);
    assert.equal(byId.get('ch4-swarm-init'), 'skipped');
    assert.equal(byId.get('ch4-create-overlay'), 'passed');
    assert.equal(byId.get('ch4-duplicate-name'), 'passed');
    process.stdout.write(`run --all (cluster-store): ${r.ms} ms\n`);
  });

  it('independently: redis on node1 and flask-redis on node2 share my-overlay; the counter grows from node1', { skip: skip ?? false }, () => {
    checkAppAcrossNodes();
  });

  it('verify --all passes', { skip: skip ?? false, timeout: 600_000 }, () => {
    const r = cli('verify', '--all', '--json');
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(r.json?.results.some((x) => x.supersededBy !== undefined), 'some steps rely on their recorded pass');
    process.stdout.write(`verify --all: ${r.ms} ms\n`);
  });

  it('a second run --all passes again (idempotent)', { skip: skip ?? false, timeout: 900_000 }, () => {
    const r = cli('run', '--all', '--yes', '--json');
    assert.equal(r.code, 0, describeRun(r));
    assert.ok((r.json?.results.filter((x) => x.alreadyInPlace === true).length ?? 0) >= 5, 'steps found their state in place');
    process.stdout.write(`second run --all: ${r.ms} ms\n`);
  });

  it('reset --yes returns both nodes to their fresh state', { skip: skip ?? false, timeout: 600_000 }, () => {
    const r = cli('reset', '--yes');
    assert.equal(r.code, 0, r.err.slice(-2000));
    for (const ip of nodeIps) { assert.deepEqual(snapshot(ip), fresh[ip], ip); }
    process.stdout.write(`reset: ${r.ms} ms\n`);
  });

  it('the swarm path passes the overlay and multi-host chapters', { skip: skip ?? false, timeout: 900_000 }, () => {
    const r = cli('run', '--all', '--from', 'ch4-hostnames', '--path', 'swarm', '--yes', '--json');
    assert.equal(r.code, 0, describeRun(r));
    const byId = new Map(r.json?.results.map((x) => [x.stepId, x.status]));
    assert.equal(byId.get('ch4-swarm-init'), 'passed');
    assert.equal(byId.get('ch4-etcd-cluster'), 'skipped');
    assert.equal(byId.get('ch5-publish-5000'), 'passed');
    const mode = ssh(nodeIps[0], "docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'");
    assert.equal(mode.out.trim(), 'active true');
    checkAppAcrossNodes();
    // the join token is a secret capture: not in the progress file, not in what the run printed
    const token = ssh(nodeIps[0], 'docker swarm join-token -q worker').out.trim();
    assert.match(token, /^SWMTKN-/);
    assert.ok(!fs.readFileSync(env.DOCKER_NET_LAB_PROGRESS, 'utf8').includes(token), 'the progress file holds no join token');
    assert.ok(!r.out.includes(token) && !r.err.includes(token), 'the run printed no join token');
    process.stdout.write(`run --all --from ch4-hostnames (swarm): ${r.ms} ms\n`);
  });

  it('reset --yes after the swarm path restores the fresh state (flags, swarm left)', { skip: skip ?? false, timeout: 600_000 }, () => {
    const r = cli('reset', '--yes');
    assert.equal(r.code, 0, r.err.slice(-2000));
    for (const ip of nodeIps) { assert.deepEqual(snapshot(ip), fresh[ip], ip); }
  });

  it('reset refuses without --yes when not on a terminal', { skip: skip ?? false }, () => {
    const r = sh('sh', ['-c', `${process.execPath} ${path.join(repoRoot, 'bin', 'docker-net-lab.js')} reset < /dev/null`]);
    assert.equal(r.code, 2);
    assert.match(r.err, /refusing without --yes/);
  });
});
