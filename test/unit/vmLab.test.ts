import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LabError } from '../../src/core/errors';
import { formatNodesFile, parseNodesFile } from '../../src/core/nodes/nodesFile';
import { buildLabNodesFile, parseLabArgs } from '../../lab/labConfig';
import { labNodes, labPaths } from '../../lab/labLayout';
import { isVmProfile, modeForProfile, nodeKind, profileNeedsModernRootfs, vmFlavourOf } from '../../lab/labProfiles';
import { kernelBannerSeen } from '../../lab/vmAccel';
import { linkTargetFromDebugfs } from '../../lab/vmBootFiles';
import { vmFlavours } from '../../lab/vmFlavours';
import { kernelRelease, resolveInRoot, vmAptSourceLine, vmIdentityFiles, vmRootfsKey, vmSudoPassword } from '../../lab/vmImage';
import { vmNodesFile } from '../../lab/vmLab';
import { vmNodeFiles } from '../../lab/vmLayout';
import { vmMachineArgs } from '../../lab/vmNode';
import { qemuArgs } from '../../lab/vmSupervisor';
import type { SupervisorConfig } from '../../lab/vmSupervisor';

const [node1, node2] = labNodes;
if (node1 === undefined || node2 === undefined) { throw new Error('two lab nodes expected'); }

function tmpPaths(): ReturnType<typeof labPaths> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-vm-'));
  return labPaths({ DOCKER_NET_LAB_HOME: path.join(dir, 'home'), DOCKER_NET_LAB_CACHE: path.join(dir, 'cache') });
}

describe('vm lab profiles', () => {
  it('vm and vm-legacy are profiles of VMs: forky defaults to swarm and refuses --mode cluster, bookworm defaults to cluster', () => {
    assert.deepEqual(parseLabArgs(['up', '--profile', 'vm-legacy']), { action: 'up', mode: 'cluster', modeGiven: false, profile: 'vm-legacy' });
    assert.equal(isVmProfile('vm'), true);
    assert.equal(isVmProfile('modern'), false);
    assert.equal(vmFlavourOf('vm'), 'forky');
    assert.equal(vmFlavourOf('vm-legacy'), 'bookworm');
    assert.deepEqual(labNodes.map((n) => nodeKind('vm', n)), ['vm', 'vm']);
    assert.equal(profileNeedsModernRootfs('vm'), false);
    assert.equal(modeForProfile('vm', 'cluster', false), 'swarm');
    assert.equal(modeForProfile('vm-legacy', 'cluster', false), 'cluster');
    assert.equal(modeForProfile('vm-legacy', 'swarm', true), 'swarm');
    assert.throws(() => modeForProfile('vm', 'cluster', true), (e: unknown) => e instanceof LabError && e.code === 'InvalidInput' && /vm-legacy/.test(e.message));
  });

  it('the nodes file names learner with sudo and the lab key, never the sudo password', () => {
    const paths = tmpPaths();
    const password = vmSudoPassword(paths);
    assert.match(password, /^[A-Za-z0-9_-]{18}$/);
    assert.equal(vmSudoPassword(paths), password, 'the password is kept for the lab');
    assert.equal(fs.statSync(path.join(paths.home, 'vm', 'sudo-password')).mode & 0o777, 0o600);
    const fp1 = `SHA256:${'a'.repeat(43)}`;
    const base = buildLabNodesFile(paths, [fp1, `SHA256:${'b'.repeat(43)}`], { mode: 'swarm', dockerVersion: '28.5.2', etcdVersion: '3.5.30' });
    const file = vmNodesFile(base, 'vm', new Map([[node1.name, { kind: 'vm', userspace: 'QEMU VM, Debian forky (tcg)' }]]));
    const text = formatNodesFile(file);
    assert.equal(text.includes(password), false);
    const parsed = parseNodesFile(text, 'nodes.json');
    assert.deepEqual(parsed.nodes.map((n) => [n.user, n.sudo, n.keyFile]), [['learner', true, paths.keyFile], ['learner', true, paths.keyFile]]);
    assert.deepEqual(parsed.nodes[0]?.hostKeyFingerprints, [fp1]);
    assert.equal(parsed.nodes[0]?.facts?.kind, 'vm');
  });

  it('the rootfs key changes with the package list and the mirror, not between two calls', () => {
    const forky = vmFlavours.forky;
    const k = vmRootfsKey(forky, 'http://deb.debian.org/debian');
    assert.equal(vmRootfsKey(forky, 'http://deb.debian.org/debian'), k);
    assert.notEqual(vmRootfsKey({ ...forky, packages: [...forky.packages, 'vim'] }, 'http://deb.debian.org/debian'), k);
    assert.notEqual(vmRootfsKey(forky, 'http://mirror.example/debian'), k);
    assert.notEqual(vmRootfsKey(vmFlavours.bookworm, 'http://deb.debian.org/debian'), k);
  });

  it('identity files: hostname in /etc/hosts, a static address without a gateway, apt only from the lab machine', () => {
    const files = vmIdentityFiles(node2);
    assert.equal(files['etc/hostname'], 'docker-node2\n');
    assert.match(files['etc/hosts'] ?? '', /^127\.0\.1\.1\tdocker-node2$/m);
    assert.match(files['etc/systemd/network/10-lab.network'] ?? '', /^Address=10\.99\.0\.12\/24$/m);
    assert.doesNotMatch(files['etc/systemd/network/10-lab.network'] ?? '', /Gateway|DNS/);
    assert.notEqual(vmIdentityFiles(node1)['etc/machine-id'], files['etc/machine-id']);
    assert.equal(vmAptSourceLine(), 'deb [trusted=yes] http://10.99.0.1:8090/ ./');
  });

  it('boot files: the /vmlinuz link as Debian writes it (relative), and as debugfs prints it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-root-'));
    fs.mkdirSync(path.join(root, 'boot'));
    fs.writeFileSync(path.join(root, 'boot', 'vmlinuz-6.12.95+deb12-amd64'), 'k');
    fs.symlinkSync('boot/vmlinuz-6.12.95+deb12-amd64', path.join(root, 'vmlinuz'));
    assert.equal(resolveInRoot(root, '/vmlinuz'), '/boot/vmlinuz-6.12.95+deb12-amd64');
    assert.equal(kernelRelease('/boot/vmlinuz-6.12.95+deb12-amd64'), '6.12.95+deb12-amd64');
    const stat = 'Inode: 14   Type: symlink    Mode:  0777   Flags: 0x0\nSize: 31\nFast link dest: "boot/vmlinuz-7.2.12+deb14-amd64"\n';
    assert.equal(linkTargetFromDebugfs(stat), 'boot/vmlinuz-7.2.12+deb14-amd64');
    assert.equal(linkTargetFromDebugfs('Inode: 12   Type: regular\n'), undefined);
  });

  it('KVM probe: a kernel banner on the serial console means the guest kernel started', () => {
    assert.equal(kernelBannerSeen('SeaBIOS\nProbing EDD (edd=off to disable)... ok\n'), false);
    assert.equal(kernelBannerSeen('[    0.000000] Linux version 7.2.12+deb14-amd64 (debian-kernel@lists.debian.org)'), true);
  });

  it('QEMU runs with -no-reboot and two QMP sockets; a warm start adds -incoming, the machine is the same either way', () => {
    const paths = tmpPaths();
    const files = vmNodeFiles(paths, 'forky', node1);
    const accel = { accel: 'tcg' as const, args: ['-accel', 'tcg,thread=multi', '-cpu', 'max'], reason: 'test', hostKey: 'x' };
    const machine = vmMachineArgs(accel, files, files.sessionDisk, node1);
    assert.ok(machine.includes('-smp') && machine[machine.indexOf('-smp') + 1] === '1');
    assert.ok(machine.some((a) => a.includes(`ifname=${files.tap}`)));
    const cfg: SupervisorConfig = {
      name: node1.name, qemu: 'qemu-system-x86_64', args: machine, append: 'root=/dev/vda', kernel: files.kernel, initrd: files.initrd,
      disk: files.sessionDisk, pidFile: files.supervisorPid, qemuPid: files.qemuPid, qmpSupervisor: files.qmpSupervisor,
      qmpControl: files.qmpControl, console: files.console,
    };
    const cold = qemuArgs(cfg, undefined);
    assert.ok(cold.includes('-no-reboot'));
    assert.equal(cold.filter((a) => a === '-qmp').length, 2);
    assert.equal(cold.includes('-incoming'), false);
    const warm = qemuArgs(cfg, '/tmp/it\'s.state');
    assert.equal(warm[warm.indexOf('-incoming') + 1], `exec:cat '/tmp/it'\\''s.state'`);
    assert.deepEqual(warm.slice(0, machine.length), machine);
  });
});
