import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root (from out/test/lab or test/lab). */
export const repoRoot = ((): string => {
  let d = __dirname;
  while (!fs.existsSync(path.join(d, 'bin', 'docker-net-lab.js'))) {
    const up = path.dirname(d);
    if (up === d) { throw new Error('bin/docker-net-lab.js not found above the test'); }
    d = up;
  }
  return d;
})();

/** Why the lab tests cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') { return 'the local lab needs Linux'; }
  if (process.getuid?.() !== 0) { return 'the local lab needs root'; }
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) { return 'dist/cli.js missing: run npm run build'; }
  return undefined;
}

/** Result of a synchronous command. */
export interface Cmd { code: number; out: string; err: string; ms: number }

/** Runs a program, synchronously, with a timeout. */
export function sh(cmd: string, args: readonly string[], timeoutMs = 120_000): Cmd {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '', ms: Date.now() - t0 };
}

/** Runs the CLI's `lab` command. */
export function lab(...args: string[]): Cmd {
  return sh(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'lab', ...args], 900_000);
}

export const stateDir = '/var/lib/docker-net-lab';
export const keyFile = `${stateDir}/ssh/id_ed25519`;
export const knownHosts = `${stateDir}/ssh/known_hosts`;
export const nodeIps = ['10.99.0.11', '10.99.0.12'] as const;
export const nodeNames = ['docker-node1', 'docker-node2'] as const;

/** ssh to a lab node exactly as documented (host key checked against the lab's known_hosts). */
export function ssh(ip: string, command: string): Cmd {
  return sh('ssh', ['-i', keyFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${ip}`, command], 60_000);
}

/** The node userspace profile of the running lab (nodes file `lab.nodeProfile`), legacy when not recorded. */
export function runningProfile(): string {
  try {
    const file = JSON.parse(fs.readFileSync(`${stateDir}/nodes.json`, 'utf8')) as { lab?: { nodeProfile?: string } };
    return file.lab?.nodeProfile ?? 'legacy';
  } catch {
    return 'legacy';
  }
}

/**
 * Brings the lab up when it is not, failing loudly when it cannot. These tests check the default (legacy)
 * profile: Docker 20.10 and etcd 3.4 from the host, so a lab left in another profile is switched back.
 */
export function ensureLabUp(): void {
  const legacy = runningProfile() === 'legacy';
  if (legacy && lab('status').code === 0) { return; }
  const r = legacy ? lab('up') : lab('up', '--profile', 'legacy', '--mode', 'cluster');
  if (r.code !== 0) { throw new Error(`lab up failed (${r.code}):\n${r.out}\n${r.err}`); }
}
