import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdLabLock, lab, labUnavailable, nodeIps, releaseLabLock, sh } from '../lab/labHelpers';
import { cliWithSudo, learnerSsh, sudoSsh, vmLeftovers } from './vmHelpers';

// The kernel step for real, from the CLI: the vm-legacy VMs boot Debian bookworm's 6.1 kernel; the lab raises
// the minimum kernel to 6.2 (DOCKER_NET_LAB_MIN_KERNEL) so the upgrade is needed; the step installs the newer
// kernel the lab's apt repository offers (through sudo, as learner), reboots each VM, waits for the new boot,
// reconnects and verifies. The reboot is real: QEMU exits on the guest's reboot and the lab's supervisor starts
// it again with the kernel the guest's /vmlinuz names. Leaves the lab down.

const qemuMissing = sh('sh', ['-c', 'command -v qemu-system-x86_64']).code === 0 ? undefined : 'qemu-system-x86_64 is not installed';

function bootFacts(ip: string): { kernel: string; bootId: string } {
  const r = learnerSsh(ip, 'uname -r; cat /proc/sys/kernel/random/boot_id');
  assert.equal(r.code, 0, `${ip}: ${r.err}`);
  const [kernel, bootId] = r.out.split('\n').map((s) => s.trim());
  return { kernel: kernel ?? '', bootId: bootId ?? '' };
}

function major(kernel: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

describe('vm-legacy: the kernel step upgrades and really reboots both VMs', { skip: labUnavailable() ?? qemuMissing, timeout: 2_400_000, concurrency: 1 }, () => {
  let tmp = '';
  before(async () => {
    await holdLabLock();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-vmkernel-'));
  });
  after(() => {
    const down = lab('down');
    if (down.code !== 0) { console.error(`lab down: ${down.out}\n${down.err}`); }
    releaseLabLock();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('run ch4-kernel-upgrade installs the repository kernel, reboots, and the nodes come back on it', { timeout: 2_100_000 }, () => {
    const t0 = Date.now();
    const up = lab('up', '--profile', 'vm-legacy');
    assert.equal(up.code, 0, `lab up --profile vm-legacy: ${up.out}\n${up.err}`);
    const upMs = Date.now() - t0;
    const ips: readonly string[] = nodeIps;
    const before = ips.map((ip) => bootFacts(ip));
    for (const b of before) { assert.equal(major(b.kernel)[0], 6, `bookworm boots a 6.x kernel, got ${b.kernel}`); }
    for (const b of before) { assert.ok(major(b.kernel)[1] < 2, `bookworm's own kernel is older than 6.2, got ${b.kernel}`); }
    // speed only: the new kernel's initramfs with this VM's own drivers (MODULES=dep) — with Debian's default
    // MODULES=most, mkinitramfs took over 7 minutes per node under TCG; the install and reboot stay the same
    for (const ip of ips) {
      const dep = sudoSsh(ip, "sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf && grep -c '^MODULES=dep$' /etc/initramfs-tools/initramfs.conf");
      assert.equal(dep.code, 0, `${ip}: MODULES=dep: ${dep.err}`);
    }
    const progress = path.join(tmp, 'progress.json');
    process.env['DOCKER_NET_LAB_MIN_KERNEL'] = '6.2';
    try {
      const hostnames = cliWithSudo(progress, 'run', 'ch4-hostnames', '--yes');
      assert.equal(hostnames.code, 0, `run ch4-hostnames: ${hostnames.out}\n${hostnames.err}`);
      const t1 = Date.now();
      const r = cliWithSudo(progress, 'run', 'ch4-kernel-upgrade', '--yes');
      const kernelMs = Date.now() - t1;
      assert.equal(r.code, 0, `run ch4-kernel-upgrade: ${r.out}\n${r.err}`);
      assert.match(r.out, /older than 6\.2/, 'the plan says why the upgrade is needed');
      const afterBoot = ips.map((ip) => bootFacts(ip));
      for (const [i, a] of afterBoot.entries()) {
        const b = before[i];
        assert.ok(b !== undefined);
        assert.notEqual(a.bootId, b.bootId, `${ips[i] ?? ''} rebooted (new boot id)`);
        assert.notEqual(a.kernel, b.kernel, `${ips[i] ?? ''} runs another kernel after the reboot`);
        const [maj, min] = major(a.kernel);
        assert.ok(maj > 6 || (maj === 6 && min >= 2), `${ips[i] ?? ''}: kernel ${a.kernel} is 6.2 or newer`);
        // the booted kernel is the one the guest's own boot configuration (/vmlinuz) names
        const link = learnerSsh(ips[i] ?? '', 'readlink -f /vmlinuz');
        assert.match(link.out.trim(), new RegExp(`vmlinuz-${a.kernel.replace(/[.+]/g, '\\$&')}$`), `/vmlinuz names ${a.kernel}`);
      }
      const verify = cliWithSudo(progress, 'verify', 'ch4-kernel-upgrade');
      assert.equal(verify.code, 0, `verify ch4-kernel-upgrade: ${verify.out}\n${verify.err}`);
      const again = cliWithSudo(progress, 'run', 'ch4-kernel-upgrade', '--yes');
      assert.equal(again.code, 0, `a second run: ${again.out}\n${again.err}`);
      assert.match(again.out, /Not needed/, 'on the new kernel the plan is not needed');
      console.log(`vm-legacy kernel step: lab up ${(upMs / 1000).toFixed(1)} s; plan+install+reboot+reconnect+verify of both nodes ${(kernelMs / 1000).toFixed(1)} s; ` +
        `kernels ${before.map((b) => b.kernel).join(', ')} -> ${afterBoot.map((a) => a.kernel).join(', ')}`);
    } finally {
      delete process.env['DOCKER_NET_LAB_MIN_KERNEL'];
    }
  });

  it('lab down after the upgrade leaves nothing', { timeout: 300_000 }, () => {
    const down = lab('down');
    assert.equal(down.code, 0, `lab down: ${down.out}\n${down.err}`);
    assert.deepEqual(vmLeftovers(), []);
  });
});
