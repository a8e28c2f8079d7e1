import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdLabLock, lab, labUnavailable, nodeIps, releaseLabLock, sh, stateDir } from '../lab/labHelpers';
import { learnerSsh, sudoPassword, sudoSsh, vmLeftovers } from './vmHelpers';

// The VM lab profiles (lab/vmLab.ts) through the real CLI: vm (Debian forky) and vm-legacy (bookworm), each as
// two QEMU VMs on the lab LAN. Holds the lab's command lock for the whole file. It brings the VM profiles up
// itself and leaves the lab down at the end (the vm stage is the last of npm test: nothing is restored).

const timings: Record<string, number> = {};

interface StatusJson { up: boolean; profile?: string; nodes: { name: string; sshd: { up: boolean }; dockerd: { up: boolean; version?: string }; kind?: string }[] }

function status(): StatusJson | undefined {
  try { return JSON.parse(lab('status', '--json').out) as StatusJson; } catch { return undefined; }
}

function up(profile: 'vm' | 'vm-legacy', key: string): string {
  const t0 = Date.now();
  const r = lab('up', '--profile', profile);
  timings[key] = Date.now() - t0;
  assert.equal(r.code, 0, `lab up --profile ${profile}: ${r.out}\n${r.err}`);
  return r.out;
}

/** What every lab VM must be, whatever its flavour. */
function checkNode(ip: string, name: string, docker: RegExp): void {
  const r = learnerSsh(ip, "id -un; id -u; id -Gn; ps -p 1 -o comm=; uname -r; hostname; docker version --format '{{.Server.Version}}'; "
    + "docker image ls --format '{{.Repository}}' | sort | tr '\\n' ' '; echo; ip route | grep -c default; getent hosts $(hostname)");
  assert.equal(r.code, 0, `${name}: ${r.err}`);
  const [user, uid, groups, init, kernel, host, version, images, defaults, hosts] = r.out.split('\n').map((s) => s.trim());
  assert.equal(user, 'learner');
  assert.notEqual(uid, '0', 'the learner is not root');
  assert.match(groups ?? '', /\bdocker\b/);
  assert.match(groups ?? '', /\bsudo\b/);
  assert.equal(init, 'systemd', `${name}: PID 1`);
  assert.notEqual(kernel, os.release(), `${name} runs its own kernel`);
  assert.equal(host, name);
  assert.match(version ?? '', docker, `${name}: Docker version`);
  for (const img of ['busybox', 'flask-redis', 'nginx', 'redis']) { assert.ok((images ?? '').split(' ').includes(img), `${name}: image ${img} in ${images ?? ''}`); }
  assert.equal(defaults, '0', `${name}: no default route`);
  assert.match(hosts ?? '', new RegExp(`\\b${name}\\b`), `${name}: /etc/hosts names the hostname`);
  const noPw = learnerSsh(ip, 'sudo -n true');
  assert.notEqual(noPw.code, 0, `${name}: sudo -n must need a password`);
  assert.match(noPw.err, /password is required/);
  const withPw = learnerSsh(ip, "sudo -S -p '' true", `${sudoPassword()}\n`);
  assert.equal(withPw.code, 0, `${name}: sudo with the password: ${withPw.err}`);
  const wrong = learnerSsh(ip, "sudo -S -p '' true", 'not-the-password\n');
  assert.notEqual(wrong.code, 0, `${name}: sudo with a wrong password`);
  const ufw = sudoSsh(ip, 'ufw status');
  assert.match(ufw.out, /^Status: active$/m, `${name}: ufw ${ufw.out}${ufw.err}`);
  assert.match(ufw.out, /^22\/tcp\s+ALLOW\s+Anywhere/m);
  assert.doesNotMatch(ufw.out, /2377|2379|4789/, 'only SSH is open: the firewall step has work to do');
}

function checkStatus(profile: string, docker: RegExp): void {
  const s = status();
  assert.equal(s?.up, true, `lab status: ${JSON.stringify(s)}`);
  assert.equal(s.profile, profile);
  for (const n of s.nodes) {
    assert.equal(n.kind, 'vm');
    assert.match(n.dockerd.version ?? '', docker);
  }
}

function checkNodesFile(): void {
  const text = fs.readFileSync(path.join(stateDir, 'nodes.json'), 'utf8');
  assert.equal(text.includes(sudoPassword()), false, 'nodes.json holds no sudo password');
  const file = JSON.parse(text) as { nodes: { user: string; sudo?: boolean; keyFile?: string; hostKeyFingerprints?: string[] }[] };
  for (const n of file.nodes) {
    assert.equal(n.user, 'learner');
    assert.equal(n.sudo, true);
    assert.ok(n.keyFile !== undefined && n.hostKeyFingerprints?.length === 1);
  }
  assert.equal(fs.statSync(path.join(stateDir, 'vm', 'sudo-password')).mode & 0o777, 0o600);
}

function bootId(ip: string): string {
  return learnerSsh(ip, 'cat /proc/sys/kernel/random/boot_id').out.trim();
}

// DOCKER_NET_LAB_VM_ONLY=vm or vm-legacy runs one flavour's tests (a shorter hold of the shared lab)
const only = process.env['DOCKER_NET_LAB_VM_ONLY'];
const skipForky = only === 'vm-legacy' ? 'DOCKER_NET_LAB_VM_ONLY=vm-legacy' : false;
const skipBookworm = only === 'vm' ? 'DOCKER_NET_LAB_VM_ONLY=vm' : false;

const qemuMissing = sh('sh', ['-c', 'command -v qemu-system-x86_64 && command -v qemu-img && command -v debugfs']).code !== 0
  ? 'qemu-system-x86_64, qemu-img or debugfs is not installed' : undefined;

describe('VM lab profiles: vm (forky) and vm-legacy (bookworm)', { skip: labUnavailable() ?? qemuMissing, timeout: 1_800_000, concurrency: 1 }, () => {
  before(async () => { await holdLabLock(); });
  after(() => {
    releaseLabLock();
    console.log(`vm lab timings (ms): ${JSON.stringify(timings)}`);
  });

  it('lab up --profile vm: two forky VMs with Docker 28', { skip: skipForky, timeout: 1_200_000 }, () => {
    const out = up('vm', 'upVm');
    assert.match(out, /docker-node1: (cold|warm) start/);
    checkStatus('vm', /^28\./);
  });

  it('forky VMs: systemd, own kernel, learner with a sudo password, ufw on, Docker 28, the images', { skip: skipForky }, () => {
    checkNode(nodeIps[0], 'docker-node1', /^28\./);
    checkNode(nodeIps[1], 'docker-node2', /^28\./);
    checkNodesFile();
  });

  it('sudo reboot really reboots: a new boot, the same supervisor, SSH and Docker back', { skip: skipForky, timeout: 600_000 }, () => {
    const ip = nodeIps[1];
    const before1 = bootId(ip);
    const supPid = fs.readFileSync(path.join(stateDir, 'vm', 'forky', 'docker-node2', 'supervisor.pid'), 'utf8').trim();
    const t0 = Date.now();
    sudoSsh(ip, 'systemctl reboot', 30_000);
    let after1 = '';
    for (let i = 0; i < 120 && (after1 === '' || after1 === before1); i++) {
      sh('sleep', ['3']);
      after1 = bootId(ip);
    }
    timings['reboot'] = Date.now() - t0;
    assert.notEqual(after1, '', 'the VM came back');
    assert.notEqual(after1, before1, 'a new boot');
    assert.equal(fs.readFileSync(path.join(stateDir, 'vm', 'forky', 'docker-node2', 'supervisor.pid'), 'utf8').trim(), supPid);
    const log = fs.readFileSync(path.join(stateDir, 'vm', 'forky', 'docker-node2', 'supervisor.log'), 'utf8');
    assert.match(log, /SHUTDOWN event: guest-reset/);
    assert.match(log, /guest reboot: booting \/boot\/vmlinuz-\S+ with \/boot\/initrd\.img-\S+/);
    let docker = learnerSsh(ip, "docker version --format '{{.Server.Version}}'");
    for (let i = 0; i < 30 && docker.code !== 0; i++) { sh('sleep', ['3']); docker = learnerSsh(ip, "docker version --format '{{.Server.Version}}'"); }
    assert.match(docker.out, /^28\./);
  });

  it('lab down leaves nothing: no process, tap, namespace, mount, iptables rule, session disk', { skip: skipForky, timeout: 300_000 }, () => {
    assert.equal(learnerSsh(nodeIps[0], 'touch ~/dnl-session-marker').code, 0);
    const t0 = Date.now();
    const r = lab('down');
    timings['downVm'] = Date.now() - t0;
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(vmLeftovers(), []);
  });

  it('a second lab up --profile vm resumes the saved ready state: a fresh lab, the clock set', { skip: skipForky, timeout: 900_000 }, () => {
    const out = up('vm', 'upVmWarm');
    assert.match(out, /docker-node1: warm start/);
    assert.match(out, /docker-node2: warm start/);
    assert.notEqual(learnerSsh(nodeIps[0], 'test -e ~/dnl-session-marker').code, 0, 'the last session\'s file is gone');
    const r = learnerSsh(nodeIps[0], 'date +%s');
    assert.ok(Math.abs(Number(r.out.trim()) - Date.now() / 1000) < 60, `guest clock ${r.out} vs ${Date.now() / 1000}`);
    checkStatus('vm', /^28\./);
  });

  it('lab up --profile vm-legacy: bookworm VMs with Docker 20.10; the lab apt repository offers a newer kernel', { skip: skipBookworm, timeout: 1_200_000 }, () => {
    up('vm-legacy', 'upVmLegacy');
    checkStatus('vm-legacy', /^20\.10\./);
    checkNode(nodeIps[0], 'docker-node1', /^20\.10\./);
    checkNode(nodeIps[1], 'docker-node2', /^20\.10\./);
    checkNodesFile();
    const apt = sudoSsh(nodeIps[0], 'apt-get update -qq && apt-cache policy linux-image-amd64');
    assert.equal(apt.code, 0, apt.err);
    const installed = /Installed: (\S+)/.exec(apt.out)?.[1] ?? '';
    const candidate = /Candidate: (\S+)/.exec(apt.out)?.[1] ?? '';
    assert.match(installed, /^6\.1\./);
    assert.match(candidate, /^6\.(1[2-9]|[2-9]\d)\./, apt.out);
    assert.match(apt.out, /http:\/\/10\.99\.0\.1:8090/);
  });

  it('lab down after vm-legacy leaves nothing either', { skip: skipBookworm, timeout: 300_000 }, () => {
    const r = lab('down');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(vmLeftovers(), []);
  });
});
