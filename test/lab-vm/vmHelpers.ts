import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Cmd } from '../lab/labHelpers';
import { keyFile, knownHosts, repoRoot, sh, stateDir } from '../lab/labHelpers';

/** The learner's sudo password of the running VM lab (root-only file of the lab state). */
export function sudoPassword(): string {
  return fs.readFileSync(path.join(stateDir, 'vm', 'sudo-password'), 'utf8').trim();
}

/** ssh to a VM as the learner, host key checked against the lab's known_hosts; `input` goes to the command's stdin. */
export function learnerSsh(ip: string, command: string, input?: string, timeoutMs = 120_000): Cmd {
  const t0 = Date.now();
  const r = spawnSync('ssh', ['-i', keyFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `learner@${ip}`, command], { encoding: 'utf8', timeout: timeoutMs, input: input ?? '' });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '', ms: Date.now() - t0 };
}

/** Runs `command` as root on a VM: sudo with the password on stdin. */
export function sudoSsh(ip: string, command: string, timeoutMs = 300_000): Cmd {
  return learnerSsh(ip, `sudo -S -p '' sh -c '${command.replace(/'/g, `'\\''`)}'`, `${sudoPassword()}\n`, timeoutMs);
}

/** The CLI with the learner's sudo password in DOCKER_NET_LAB_SUDO_PASSWORD (what a CLI user sets). */
export function cliWithSudo(progress: string, ...args: string[]): Cmd {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args], {
    encoding: 'utf8', timeout: 1_500_000, maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DOCKER_NET_LAB_PROGRESS: progress, DOCKER_NET_LAB_SUDO_PASSWORD: sudoPassword(), DOCKER_NET_LAB_SECRETS_FOR: 'docker-node1,docker-node2' },
  });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '', ms: Date.now() - t0 };
}

/** Processes, taps, namespaces, links and files a VM lab may leave behind; empty when nothing is left. */
export function vmLeftovers(): string[] {
  const left: string[] = [];
  for (const flavour of ['forky', 'bookworm']) {
    for (const node of ['docker-node1', 'docker-node2']) {
      const dir = path.join(stateDir, 'vm', flavour, node);
      for (const f of ['supervisor.pid', 'qemu.pid', 'session.qcow2', 'qmp-control.sock', 'qmp-supervisor.sock']) {
        if (fs.existsSync(path.join(dir, f))) { left.push(`${flavour}/${node}/${f}`); }
      }
    }
  }
  if (fs.existsSync(path.join(stateDir, 'vm', 'apt-repo.pid'))) { left.push('vm/apt-repo.pid'); }
  // every process whose argv names the lab's VM programs or disks
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) { continue; }
    let argv = '';
    try { argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' '); } catch { continue; }
    if (/vmSupervisor\.js|vmRepoServer\.js|docker-net-lab\/vm\/.*\.qcow2/.test(argv)) { left.push(`process ${e}: ${argv.slice(0, 120)}`); }
  }
  const links = sh('ip', ['-o', 'link', 'show']).out;
  for (const l of links.split('\n')) { if (/\b(vmtap\d|lab0)[:@]/.test(l)) { left.push(`link: ${l.slice(0, 80)}`); } }
  if (sh('ip', ['netns', 'list']).out.split('\n').some((l) => /^(lab-switch|docker-node\d)\b/.test(l))) { left.push('a lab network namespace'); }
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes('/docker-net-lab/'));
  left.push(...mounts.map((m) => `mount: ${m}`));
  const rules = sh('iptables', ['-S']).out.split('\n').filter((l) => /10\.99\.0\./.test(l));
  left.push(...rules.map((r) => `iptables: ${r}`));
  return left;
}
