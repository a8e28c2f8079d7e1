import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { kernelAtLeast, kernelPlan, parseKernelVersion } from '../../src/core/lab/kernelPlan';
import { parseOsRelease } from '../../src/core/lab/labFacts';

// FAKE node states: os-release texts and kernel releases of distributions this machine cannot run.
// They stand in for what `cat /etc/os-release` and `uname -r` print on those systems.
const fakeCentos7 = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n';
const fakeRocky8 = 'NAME="Rocky Linux"\nVERSION="8.9 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\nPRETTY_NAME="Rocky Linux 8.9 (Green Obsidian)"\n';
const fakeAlma9 = 'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n';
const fakeUbuntu1404 = 'NAME="Ubuntu"\nVERSION="14.04.6 LTS, Trusty Tahr"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="14.04"\n';
const fakeUbuntu1604 = 'NAME="Ubuntu"\nVERSION="16.04.7 LTS (Xenial Xerus)"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="16.04"\nVERSION_CODENAME=xenial\n';
const fakeDebian7 = 'PRETTY_NAME="Debian GNU/Linux 7 (wheezy)"\nNAME="Debian GNU/Linux"\nVERSION_ID="7"\nVERSION="7 (wheezy)"\nID=debian\n';
const fakeArch = 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n';
const debian12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';

describe('kernel plans', () => {
  it('parses kernel releases and compares with 3.16', () => {
    assert.deepEqual(parseKernelVersion('3.10.0-1160.el7.x86_64'), [3, 10, 0]);
    assert.deepEqual(parseKernelVersion('6.1.0-28-amd64'), [6, 1, 0]);
    assert.equal(kernelAtLeast('3.10.0-1160.el7.x86_64'), false);
    assert.equal(kernelAtLeast('3.16.0-4-amd64'), true);
    assert.equal(kernelAtLeast('4.4.0'), true);
    assert.equal(kernelAtLeast('2.6.32'), false);
  });
  it('recent kernels need nothing, with the reason', () => {
    const p = kernelPlan(parseOsRelease(debian12), '6.1.0-28-amd64');
    assert.equal(p.needed, false);
    assert.equal(p.commands.length, 0);
    assert.match(p.reason, /Not needed: kernel 6\.1\.0-28-amd64 is 3\.16 or newer/);
  });
  it('CentOS 7 on 3.10 (fake): vault repos, ELRepo key + release, kernel-lt, grub default, reboot', () => {
    const p = kernelPlan(parseOsRelease(fakeCentos7), '3.10.0-1160.el7.x86_64');
    assert.equal(p.needed, true);
    assert.equal(p.distro, 'centos7');
    assert.equal(p.reboot, true);
    assert.match(p.commands[0] ?? '', /vault\.centos\.org/);
    assert.match(p.commands[1] ?? '', /^rpm --import https:\/\/www\.elrepo\.org\/RPM-GPG-KEY-elrepo\.org$/);
    assert.match(p.commands[2] ?? '', /elrepo-release-7\.el7/);
    assert.equal(p.commands[3], 'yum --enablerepo=elrepo-kernel install -y kernel-lt');
    assert.deepEqual(p.commands.slice(4), ['grub2-set-default 0', 'grub2-mkconfig -o /boot/grub2/grub.cfg']);
    assert.ok(p.notes.some((n) => /end of life/.test(n)));
    assert.equal(kernelPlan(parseOsRelease(fakeCentos7), '3.10.0', { flavour: 'ml' }).commands[3], 'yum --enablerepo=elrepo-kernel install -y kernel-ml');
  });
  it('Rocky 8 / Alma 9 with an old kernel (fake): ELRepo for the right el release', () => {
    const r8 = kernelPlan(parseOsRelease(fakeRocky8), '3.10.0-fake');
    assert.equal(r8.distro, 'el8');
    assert.ok(r8.commands.some((c) => c.includes('elrepo-release-8.el8')));
    const a9 = kernelPlan(parseOsRelease(fakeAlma9), '3.10.0-fake');
    assert.equal(a9.distro, 'el9');
    assert.ok(a9.commands.some((c) => c.includes('elrepo-release-9.el9')));
    assert.ok(a9.commands.some((c) => c === 'dnf --enablerepo=elrepo-kernel install -y kernel-lt'));
    assert.equal(kernelPlan(parseOsRelease(fakeRocky8), '4.18.0-513.el8.x86_64').needed, false);
  });
  it('Ubuntu (fake): the HWE kernel for the release', () => {
    assert.deepEqual(kernelPlan(parseOsRelease(fakeUbuntu1404), '3.13.0-170-generic').commands.slice(-1), ['DEBIAN_FRONTEND=noninteractive apt-get install -y --install-recommends linux-generic-lts-xenial']);
    const p = kernelPlan(parseOsRelease(fakeUbuntu1604), '3.13.0-fake');
    assert.match(p.commands[1] ?? '', /linux-generic-hwe-16\.04$/);
    assert.equal(p.distro, 'ubuntu');
  });
  it('Debian 7 (fake): the backports kernel of its codename', () => {
    const p = kernelPlan(parseOsRelease(fakeDebian7), '3.2.0-4-amd64');
    assert.equal(p.distro, 'debian');
    assert.equal(p.commands[0], 'apt-get update');
    assert.match(p.commands[1] ?? '', /^if apt-get -s install "linux-image-\$\(dpkg --print-architecture\)" \| grep -q '\^Inst linux-image-'; then /);
    assert.match(p.commands[1] ?? '', /else echo 'deb http:\/\/archive\.debian\.org\/debian wheezy-backports main'/);
    assert.match(p.commands[1] ?? '', /-t wheezy-backports "linux-image-\$\(dpkg --print-architecture\)"; fi$/);
  });
  it('Debian 12 with a raised minimum: the newer kernel of its own sources first, else bookworm-backports on deb.debian.org', () => {
    const p = kernelPlan(parseOsRelease(debian12), '6.1.0-28-amd64', { minimumKernel: [6, 2] });
    assert.equal(p.needed, true);
    assert.match(p.commands[1] ?? '', /then DEBIAN_FRONTEND=noninteractive apt-get install -y "linux-image-\$\(dpkg --print-architecture\)"; else/);
    assert.match(p.commands[1] ?? '', /'deb http:\/\/deb\.debian\.org\/debian bookworm-backports main'/);
    assert.doesNotMatch(p.commands.join('\n'), /archive\.debian\.org/);
  });
  it('a Debian codename that is not a plain word never reaches the sources line (hostile os-release)', () => {
    const hostile = debian12.replace('VERSION_CODENAME=bookworm', "VERSION_CODENAME=x'; touch /tmp/pwned; echo '");
    const p = kernelPlan(parseOsRelease(hostile), '6.1.0-28-amd64', { minimumKernel: [6, 2] });
    assert.doesNotMatch(p.commands.join('\n'), /pwned/);
    assert.match(p.commands[1] ?? '', / stable-backports main'/);
  });
  it('an unknown distribution with an old kernel (fake): needed, but no automatic commands', () => {
    const p = kernelPlan(parseOsRelease(fakeArch), '3.10.0');
    assert.equal(p.needed, true);
    assert.equal(p.distro, 'unknown');
    assert.deepEqual(p.commands, []);
    assert.match(p.reason, /no automatic plan for Arch Linux/);
  });
});
