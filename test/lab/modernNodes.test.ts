import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LabProfile } from './labHelpers';
import { currentProfile, holdLabLock, lab, labUnavailable, nodeIps, nodeNames, releaseLabLock, repoRoot, restoreProfile, sh, ssh, stateDir } from './labHelpers';

// Brings up the modern profile (Debian trixie nodes: Docker 26, etcd 3.5, OpenSSH 10) and the mixed profile,
// then restores whatever lab ran before (other lab tests use the legacy lab: the modern window is kept short).

const skip = labUnavailable();

interface StatusJson {
  up: boolean;
  profile?: string;
  nodes: { name: string; mode: string; kind?: string; etcd: { up: boolean; version?: string }; dockerd: { up: boolean; version?: string }; sshd: { version?: string } }[];
}

const timings: Record<string, number> = {};

function status(): StatusJson | undefined {
  const r = lab('status', '--json');
  try { return JSON.parse(r.out) as StatusJson; } catch { return undefined; }
}

function must(r: ReturnType<typeof lab>, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.out}\n${r.err}`);
}

/** Root-namespace iptables rules without counters (to compare before/after). */
function rootRules(): string {
  const out: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save']) {
    const r = sh(cmd, []);
    out.push(...r.out.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')));
  }
  return out.join('\n');
}

/** Everything of the lab that may outlive `down` if teardown is wrong. */
function leftovers(): string[] {
  const found: string[] = [];
  const ns = sh('ip', ['netns', 'list']).out;
  for (const n of [...nodeNames, 'lab-switch']) { if (new RegExp(`^${n}( |$)`, 'm').test(ns)) { found.push(`netns ${n}`); } }
  if (sh('ip', ['link', 'show', 'dev', 'lab0']).code === 0) { found.push('veth lab0'); }
  // mounts of the nodes (overlay roots, binds) in ANY mount namespace still alive
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let info = '';
    try { info = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { continue; }
    if (/ overlay .*modern-trixie\/rootfs/.test(info) || info.includes(`${stateDir}/nodes/`)) { found.push(`mounts held by pid ${pid}`); break; }
  }
  const loops = sh('losetup', ['-a']).out;
  if (/docker-net-lab/.test(loops)) { found.push(`loop devices: ${loops.trim()}`); }
  for (const pidfile of ['anchor', 'sshd', 'etcd', 'dockerd']) {
    for (const n of nodeNames) { if (fs.existsSync(path.join(stateDir, 'nodes', n, 'run', `${pidfile}.pid`))) { found.push(`${n} ${pidfile}.pid`); } }
  }
  return found;
}

describe('modern and mixed lab nodes (Docker 26, etcd 3.5, OpenSSH 10)', { skip, timeout: 1_800_000 }, () => {
  let previous: LabProfile | undefined;
  let rulesBefore = '';

  before(async () => {
    await holdLabLock();
    previous = currentProfile();
    const down = lab('down');
    must(down, 'lab down (before the modern window)');
    rulesBefore = rootRules();
  });

  after(() => {
    lab('down');
    restoreProfile(previous);
    releaseLabLock();
    console.log(`modern-node timings (ms): ${JSON.stringify(timings)}`);
  });

  it('lab up --profile modern brings up two trixie nodes', () => {
    const t0 = Date.now();
    const r = lab('up', '--profile', 'modern');
    timings['modernUp'] = Date.now() - t0;
    must(r, 'lab up --profile modern');
    assert.match(r.out, /profile modern:/);
    assert.match(r.out, /docker-node2 10\.99\.0\.12: modern \(Debian trixie rootfs/);
    assert.match(r.out, /mode swarm/, 'the cluster-store mode is not the default on Docker 26');
  });

  for (const [i, ip] of nodeIps.entries()) {
    it(`${nodeNames[i]}: ssh with StrictHostKeyChecking=yes, Docker 26 client and server, etcd 3.5, OpenSSH 10, overlay root, ext4 data root`, () => {
      const r = ssh(ip, [
        'cat /proc/sys/kernel/hostname',
        'docker version --format "{{.Server.Version}} {{.Client.Version}}"',
        'etcd --version | head -1',
        'ssh -V 2>&1',
        'findmnt -n -o FSTYPE /',
        'findmnt -n -o FSTYPE /var/lib/docker',
        'docker info --format "{{.Driver}} {{.CgroupDriver}} {{.CgroupVersion}}"',
        'grep -h "^URIs:" /etc/apt/sources.list.d/*.sources',
      ].join('; '));
      must({ ...r }, `ssh ${ip}`);
      const [host, versions, etcd, openssh, rootFs, dataFs, info, uris] = r.out.trim().split('\n');
      assert.equal(host, nodeNames[i]);
      assert.match(versions ?? '', /^26\.\d+\.\d+\S* 26\.\d+\.\d+/);
      assert.match(etcd ?? '', /^etcd Version: 3\.5\./);
      assert.match(openssh ?? '', /^OpenSSH_10\./);
      assert.equal(rootFs, 'overlay');
      assert.notEqual(dataFs, 'overlay');
      assert.equal(info, 'overlay2 cgroupfs 1');
      const hostMirrors = sh('sh', ['-c', 'grep -rhE "^URIs:|^deb " /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null']).out;
      assert.match(uris ?? '', /^URIs: http\S+\/debian$/);
      assert.ok(hostMirrors.includes((uris ?? '').replace(/^URIs: /, '')), `the rootfs mirror ${uris ?? ''} is not one the host uses`);
    });
  }

  it('lab status and the nodes file report the profile and per-node versions', () => {
    const s = status();
    assert.ok(s?.up, 'lab status says up');
    assert.equal(s.profile, 'modern');
    for (const n of s.nodes) {
      assert.equal(n.kind, 'modern');
      assert.match(n.dockerd.version ?? '', /^26\./);
      assert.match(n.etcd.version ?? '', /^3\.5\./);
      assert.match(n.sshd.version ?? '', /OpenSSH_10/);
    }
    const text = lab('status').out;
    assert.match(text, /docker-node1 {2}10\.99\.0\.11 {2}mode \w+ {2}modern/);
    assert.match(text, /Docker 26\./);
    const file = JSON.parse(fs.readFileSync(path.join(stateDir, 'nodes.json'), 'utf8')) as {
      lab: { nodeProfile: string; nodes: Record<string, { kind: string; dockerVersion: string; etcdVersion: string }> };
      nodes: { name: string; hostKeyFingerprints: string[]; facts?: { kind: string; dockerVersion: string; etcdVersion: string } }[];
    };
    assert.equal(file.lab.nodeProfile, 'modern');
    for (const n of file.nodes) {
      assert.equal(n.facts?.kind, 'modern');
      assert.match(n.facts.dockerVersion, /^26\./);
      assert.match(n.facts.etcdVersion, /^3\.5\./);
      assert.equal(file.lab.nodes[n.name]?.dockerVersion, n.facts.dockerVersion);
      assert.equal(n.hostKeyFingerprints.length, 1);
    }
  });

  it('etcd 3.5 cluster: v2 API on (cluster-health), plain v3 etcdctl has no cluster-health', () => {
    const r = ssh(nodeIps[0], 'ETCDCTL_API=2 etcdctl cluster-health; etcdctl cluster-health 2>&1; true');
    assert.match(r.out, /cluster is healthy/);
    assert.equal((r.out.match(/got healthy result/g) ?? []).length, 2);
    assert.match(r.out, /unknown command "cluster-health" for "etcdctl"/);
  });

  for (const [i, ip] of nodeIps.entries()) {
    it(`${nodeNames[i]}: the seeded images, and an in-node build with the classic builder (DOCKER_BUILDKIT=0)`, () => {
      const r = ssh(ip, [
        'docker image ls --format {{.Repository}}:{{.Tag}}',
        'd=$(mktemp -d); printf "FROM busybox\\nRUN echo built > /built\\n" > $d/Dockerfile',
        'DOCKER_BUILDKIT=0 docker build -q -t lab-modern-build-check $d >/dev/null 2>$d/err && docker run --rm lab-modern-build-check cat /built; cat $d/err | head -3',
        'docker rmi lab-modern-build-check >/dev/null 2>&1; rm -rf $d',
      ].join('\n'));
      must({ ...r }, `ssh ${ip}`);
      for (const img of ['busybox:latest', 'nginx:latest', 'redis:latest', 'flask-redis:latest']) {
        assert.ok(r.out.split('\n').includes(img), `${img} missing: ${r.out}`);
      }
      assert.match(r.out, /^built$/m);
    });
  }

  it('swarm: init on node1, join from node2, attachable overlay, cross-node ping by name', () => {
    const t0 = Date.now();
    for (const ip of nodeIps) { ssh(ip, 'docker rm -f mt1 mt2 >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; true'); }
    try {
      const init = ssh(nodeIps[0], 'docker swarm init --advertise-addr 10.99.0.11 >/dev/null && docker swarm join-token -q worker');
      must({ ...init }, 'swarm init');
      const join = ssh(nodeIps[1], `docker swarm join --token ${init.out.trim()} 10.99.0.11:2377`);
      must({ ...join }, 'swarm join');
      must({ ...ssh(nodeIps[0], 'docker network create -d overlay --attachable mt-overlay') }, 'overlay create');
      must({ ...ssh(nodeIps[0], 'docker run -d --name mt1 --net mt-overlay busybox sleep 600') }, 'run mt1');
      // a fresh worker may answer "network mt-overlay not found" until its swarm session is up: retry for up to 20 s
      must(ssh(nodeIps[1], 'for i in $(seq 1 20); do docker run -d --name mt2 --net mt-overlay busybox sleep 600 && exit 0; ' +
        'docker rm -f mt2 >/dev/null 2>&1; sleep 1; done; exit 1'), 'run mt2');
      const p1 = ssh(nodeIps[0], 'docker exec mt1 ping -c 2 -W 3 mt2');
      assert.equal(p1.code, 0, p1.out + p1.err);
      assert.match(p1.out, /2 packets received/);
      const p2 = ssh(nodeIps[1], 'docker exec mt2 ping -c 2 -W 3 mt1');
      assert.equal(p2.code, 0, p2.out + p2.err);
      assert.match(p2.out, /2 packets received/);
      const nodes = ssh(nodeIps[0], 'docker node ls --format "{{.Hostname}} {{.Status}}"');
      assert.match(nodes.out, /docker-node1 Ready/);
      assert.match(nodes.out, /docker-node2 Ready/);
    } finally {
      ssh(nodeIps[1], 'docker rm -f mt2 >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1');
      ssh(nodeIps[0], 'docker rm -f mt1 >/dev/null 2>&1; docker network rm mt-overlay >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1');
      timings['swarm'] = Date.now() - t0;
    }
  });

  it('lab-dockerd with --cluster-store: Docker 26 refuses it, and diagnose names the cause and the swarm fix', () => {
    const stop = ssh(nodeIps[0], 'lab-dockerd stop');
    must({ ...stop }, 'lab-dockerd stop');
    let refusal = '';
    try {
      const r = ssh(nodeIps[0], 'lab-dockerd start --cluster-store=etcd://10.99.0.11:2379 --cluster-advertise=10.99.0.11:2375');
      refusal = r.out + r.err;
      assert.notEqual(r.code, 0, `dockerd 26 accepted --cluster-store:\n${refusal}`);
      assert.match(refusal, /unknown flag: --cluster-store/);
    } finally {
      must({ ...ssh(nodeIps[0], 'lab-dockerd start swarm') }, 'lab-dockerd start swarm (restore)');
    }
    const d = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'diagnose', '-', '--json'], { input: refusal, encoding: 'utf8', timeout: 60_000 });
    const findings = JSON.parse(d.stdout) as unknown;
    const text = JSON.stringify(findings);
    assert.match(text, /cluster-store-unknown-flag-24/, `no cluster-store finding in: ${text.slice(0, 2000)}`);
    assert.match(text, /removed in Docker Engine 24/);
    assert.match(text, /docker swarm init/);
  });

  it('stale state: every process of a modern node SIGKILLed (container running) → up cleans it and comes back', () => {
    must(ssh(nodeIps[1], 'docker run -d --name mt-stale busybox sleep 600'), 'run a container on node2');
    const pids = sh('ip', ['netns', 'pids', 'docker-node2']).out.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
    assert.ok(pids.length >= 5, `expected anchor, sshd, etcd, dockerd, containerd in docker-node2: ${pids.join(' ')}`);
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    assert.notEqual(lab('status').code, 0, 'status sees the broken node');
    const t0 = Date.now();
    const r = lab('up', '--profile', 'modern');
    timings['modernRepairUp'] = Date.now() - t0;
    must(r, 'lab up after SIGKILL');
    assert.match(r.out, /cleaning up what an earlier lab session left behind/);
    assert.equal(status()?.up, true);
    const v = ssh(nodeIps[1], 'docker version --format {{.Server.Version}}');
    assert.match(v.out, /^26\./);
    ssh(nodeIps[1], 'docker rm -f mt-stale >/dev/null 2>&1');
  });

  it('lab down leaves no namespace, veth, mount, loop device, process or root-namespace iptables rule', () => {
    const t0 = Date.now();
    must(lab('down'), 'lab down');
    timings['modernDown'] = Date.now() - t0;
    assert.deepEqual(leftovers(), []);
    assert.equal(rootRules(), rulesBefore, 'root-namespace iptables rules changed');
  });

  it('lab up --profile mixed: node1 legacy (Docker 20.10), node2 modern (Docker 26), one etcd 3.5 cluster; down cleanly', () => {
    const t0 = Date.now();
    const r = lab('up', '--profile', 'mixed');
    timings['mixedUp'] = Date.now() - t0;
    must(r, 'lab up --profile mixed');
    assert.match(r.out, /incompatible with current running cluster/, 'up explains the etcd choice');
    const s = status();
    assert.ok(s?.up, 'mixed lab is up');
    assert.equal(s.profile, 'mixed');
    assert.deepEqual(s.nodes.map((n) => n.kind), ['legacy', 'modern']);
    assert.match(s.nodes[0]?.dockerd.version ?? '', /^20\.10\./);
    assert.match(s.nodes[1]?.dockerd.version ?? '', /^26\./);
    for (const n of s.nodes) { assert.match(n.etcd.version ?? '', /^3\.5\./); }
    const h = ssh(nodeIps[0], 'docker version --format {{.Server.Version}}; ETCDCTL_API=2 etcdctl --endpoints http://10.99.0.12:2379 cluster-health');
    assert.match(h.out, /^20\.10\./);
    assert.match(h.out, /cluster is healthy/);
    // Docker 20.10's cluster store against the etcd 3.5 cluster (v2 on): an overlay network lands in etcd
    try {
      must(ssh(nodeIps[0], 'lab-dockerd restart cluster'), 'lab-dockerd restart cluster (legacy node1)');
      const ov = ssh(nodeIps[0], 'docker network create -d overlay mx-ov >/dev/null && docker network inspect -f "{{.Scope}}" mx-ov && ' +
        'ETCDCTL_API=2 etcdctl --endpoints http://10.99.0.12:2379 ls /docker/network/v1.0/network');
      assert.equal(ov.code, 0, ov.out + ov.err);
      assert.match(ov.out, /^global$/m);
      assert.match(ov.out, /\/docker\/network\/v1\.0\/network\/[0-9a-f]{64}/);
    } finally {
      ssh(nodeIps[0], 'docker network rm mx-ov >/dev/null 2>&1; lab-dockerd restart swarm >/dev/null');
    }
    // swarm across the versions: Docker 26 manager (node2), Docker 20.10 worker (node1)
    try {
      const init = ssh(nodeIps[1], 'docker swarm init --advertise-addr 10.99.0.12 >/dev/null && docker swarm join-token -q worker');
      must(init, 'swarm init on the modern node2');
      must(ssh(nodeIps[0], `docker swarm join --token ${init.out.trim()} 10.99.0.12:2377`), 'swarm join from the legacy node1');
      const ls = ssh(nodeIps[1], 'docker node ls --format "{{.Hostname}} {{.Status}} {{.EngineVersion}}"');
      assert.match(ls.out, /docker-node1 Ready 20\.10\./);
      assert.match(ls.out, /docker-node2 Ready 26\./);
    } finally {
      ssh(nodeIps[0], 'docker swarm leave --force >/dev/null 2>&1');
      ssh(nodeIps[1], 'docker swarm leave --force >/dev/null 2>&1');
    }
    const t1 = Date.now();
    must(lab('down'), 'lab down (mixed)');
    timings['mixedDown'] = Date.now() - t1;
    assert.deepEqual(leftovers(), []);
    assert.equal(rootRules(), rulesBefore, 'root-namespace iptables rules changed');
  });
});
