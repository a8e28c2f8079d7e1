import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdLabLock, lab, labUnavailable, nodeIps, releaseLabLock, sh } from '../lab/labHelpers';
import { cliWithSudo, learnerSsh } from './vmHelpers';

// The guided lab on the VMs, the way a learner runs it from the CLI on two real machines: `run --all --yes` then
// `verify --all` as the learner with sudo (DOCKER_NET_LAB_SUDO_PASSWORD), on the forky VMs (Docker 28: the
// swarm path, chosen by itself) and on the bookworm VMs (Docker 20.10: the etcd cluster store through a
// docker.service drop-in). Needs the step runner's sudo and the automatic swarm path. Leaves the lab down.

const progressDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-guided-'));
const timings: Record<string, number> = {};

function failures(out: string): string {
  try {
    const j = JSON.parse(out) as { results?: { stepId: string; status: string; message: string }[] };
    return (j.results ?? []).filter((r) => r.status !== 'passed' && r.status !== 'skipped').map((r) => `${r.stepId}: ${r.status}: ${r.message}`).join('\n');
  } catch {
    return out.slice(-3000);
  }
}

/** redis on node1 and flask-redis on node2 share my-overlay; the counter on node2:5000 grows. */
function checkApp(): void {
  const on = (ip: string, name: string): void => {
    const r = learnerSsh(ip, `docker inspect -f '{{.State.Running}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' ${name}`);
    assert.match(r.out, /^true .*my-overlay/, `${name} on ${ip}: ${r.out}${r.err}`);
  };
  on(nodeIps[0], 'redis');
  on(nodeIps[1], 'flask-redis');
  const count = (): number => {
    const r = learnerSsh(nodeIps[0], `curl -sS -m 10 http://${nodeIps[1]}:5000`);
    const m = /seen (\d+) times/.exec(r.out);
    assert.ok(m !== null, `curl from node1: ${r.out}${r.err}`);
    return Number(m[1]);
  };
  const a = count();
  assert.ok(count() > a, 'the counter grows');
}

function guided(profile: 'vm' | 'vm-legacy'): void {
  const t0 = Date.now();
  const up = lab('up', '--profile', profile);
  timings[`up-${profile}`] = Date.now() - t0;
  assert.equal(up.code, 0, `lab up --profile ${profile}: ${up.out}\n${up.err}`);
  const progress = path.join(progressDir, `${profile}.json`);
  const run = cliWithSudo(progress, 'run', '--all', '--yes', '--json');
  timings[`runAll-${profile}`] = run.ms;
  assert.equal(run.code, 0, `run --all on ${profile}: ${failures(run.out)}\n${run.err.slice(-2000)}`);
  const verify = cliWithSudo(progress, 'verify', '--all', '--json');
  timings[`verifyAll-${profile}`] = verify.ms;
  assert.equal(verify.code, 0, `verify --all on ${profile}: ${failures(verify.out)}`);
  checkApp();
  for (const ip of nodeIps) {
    const r = learnerSsh(ip, 'ps -p 1 -o comm=; uname -r');
    const [init, kernel] = r.out.split('\n');
    assert.equal(init, 'systemd');
    assert.notEqual(kernel, os.release());
  }
  const again = cliWithSudo(progress, 'run', '--all', '--yes', '--json');
  timings[`runAgain-${profile}`] = again.ms;
  assert.equal(again.code, 0, `a second run --all on ${profile}: ${failures(again.out)}`);
}

const qemuMissing = sh('sh', ['-c', 'command -v qemu-system-x86_64']).code !== 0 ? 'qemu-system-x86_64 is not installed' : undefined;

describe('guided lab on the VMs (run --all, verify --all as the learner with sudo)', { skip: labUnavailable() ?? qemuMissing, timeout: 2_400_000, concurrency: 1 }, () => {
  before(async () => { await holdLabLock(); });
  after(() => {
    lab('down');
    releaseLabLock();
    fs.rmSync(progressDir, { recursive: true, force: true });
    console.log(`vm guided lab timings (ms): ${JSON.stringify(timings)}`);
  });

  it('forky VMs (Docker 28): the swarm path, verified, the app across both VMs, a second run passes', { timeout: 1_200_000 }, () => {
    guided('vm');
  });

  it('bookworm VMs (Docker 20.10): the cluster-store path through the docker.service drop-in, verified', { timeout: 1_200_000 }, () => {
    guided('vm-legacy');
  });
});
