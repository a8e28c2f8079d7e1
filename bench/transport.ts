// Transport benchmark: one listContainers call on node1 over (a) our SSH transport (warm session,
// Docker API over a direct-streamlocal channel), (b) dockerode's own `protocol: 'ssh'` (new SSH
// connection + `docker system dial-stdio` per call), (c) the ssh CLI running `docker ps`, and
// (d) plain TCP 2375 (opened from docker-node2's namespace). Needs the local lab (docker-net-lab lab up) and root.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { NetnsAgent } from '../lab/netnsSocket';
import { DockerEngine } from '../src/core/docker/dockerEngine';
import { labKnownHostsFile, labNodesFile } from '../src/core/nodes/localLabPaths';
import { readNodesFile } from '../src/core/nodes/nodesFile';
import { checkHostKey } from '../src/core/ssh/hostKeys';
import { NodeSession } from '../src/core/ssh/nodeSession';
import type { BenchResult } from './index';

interface Stats { p50: number; p95: number; n: number; count: number }

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

async function measure(iterations: number, warmup: number, f: () => Promise<number>): Promise<Stats> {
  let count = 0;
  for (let i = 0; i < warmup; i++) { count = await f(); }
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    count = await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), n: iterations, count };
}

/**
 * Measures several fast transports round-robin (one call of each per round), so that load from
 * other processes on the machine hits them alike.
 */
async function measureInterleaved(iterations: number, warmup: number, fns: Record<string, () => Promise<number>>): Promise<Record<string, Stats>> {
  const names = Object.keys(fns);
  const times: Record<string, number[]> = {};
  const counts: Record<string, number> = {};
  for (const n of names) { times[n] = []; }
  for (let i = 0; i < warmup + iterations; i++) {
    for (const n of names) {
      const t0 = performance.now();
      counts[n] = await fns[n]!();
      if (i >= warmup) { times[n]!.push(performance.now() - t0); }
    }
  }
  const out: Record<string, Stats> = {};
  for (const n of names) {
    const sorted = times[n]!.sort((a, b) => a - b);
    out[n] = { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), n: iterations, count: counts[n] ?? 0 };
  }
  return out;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) { reject(new Error(`${cmd} failed: ${err.message} ${stderr}`)); return; }
      resolve(stdout);
    });
  });
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Runs the transport benchmark; returns its compared results. */
export async function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  const nodesFile = labNodesFile();
  if (!fs.existsSync(nodesFile)) {
    log(`skipped: no lab nodes file at ${nodesFile} (run "docker-net-lab lab up" as root first)`);
    return [];
  }
  const node = readNodesFile(nodesFile).nodes[0]!;
  const keyFile = node.keyFile!;
  const knownHosts = labKnownHostsFile();
  const fps = node.hostKeyFingerprints ?? [];
  const stats: Record<string, Stats> = {};
  // a slow baseline that fails (the shared lab restarting dockerd, say) is reported, not fatal
  const baseline = async (name: string, f: () => Promise<Stats>): Promise<void> => {
    try { stats[name] = await f(); } catch (e) { log(`baseline "${name}" failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`); }
  };

  // (a) ours: one warm SSH session, streamlocal channel reused through keep-alive, and
  // (d) TCP 2375 with dockerode and Node's default keep-alive agent; measured interleaved
  const tcpPort = node.docker?.tcpPort ?? 2375;
  // the TCP connection is opened in the other node's namespace (docker-node2): the nodes' port guard drops 2375
  // from this machine; the path (veth, lab bridge, veth) is the one this machine's connection took before
  const tcpName = `dockerode tcp ${node.host}:${tcpPort} from docker-node2`;
  const session = new NodeSession(node, { reconnect: false });
  const engine = new DockerEngine(node, session);
  const tcpAgent = new NetnsAgent('docker-node2');
  const tcp = new Docker({ protocol: 'http', host: node.host, port: tcpPort, agent: tcpAgent } as Docker.DockerOptions);
  try {
    const fast = await measureInterleaved(300, 50, {
      'ours (ssh2 streamlocal, warm)': async () => (await engine.listContainers()).length,
      [tcpName]: async () => (await tcp.listContainers({ all: true })).length,
    });
    Object.assign(stats, fast);
  } finally {
    engine.dispose();
    session.dispose();
    tcpAgent.destroy();
  }

  // (b) dockerode protocol ssh: new SSH connection + dial-stdio per connection
  const privateKey = fs.readFileSync(keyFile);
  const hostVerifier = (key: Buffer): boolean => checkHostKey({ host: node.host, port: node.port, key, fingerprints: fps }).status === 'trusted';
  const viaSsh = new Docker({ protocol: 'ssh', host: node.host, port: node.port, username: node.user, sshOptions: { privateKey, hostVerifier } });
  await baseline('dockerode protocol ssh', () => measure(10, 1, async () => (await viaSsh.listContainers({ all: true })).length));

  // (c) the ssh CLI running docker ps, strict host key checking against the lab known_hosts
  const sshArgs = ['-i', keyFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR', '-p', String(node.port), `${node.user}@${node.host}`, 'docker', 'ps', '-a', '--format', "'{{json .}}'"];
  if (fs.existsSync(knownHosts)) {
    await baseline('ssh CLI docker ps', () => measure(10, 1, async () => (await run('ssh', sshArgs)).split('\n').filter((l) => l !== '').length));
  } else {
    log(`ssh CLI baseline skipped: ${knownHosts} is missing`);
  }

  const ours = stats['ours (ssh2 streamlocal, warm)'];
  if (ours === undefined) { throw new Error('our transport was not measured'); }
  const counts = new Set(Object.values(stats).map((s) => s.count));
  log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs (a busy machine widens every gap: the SSH path has one more process, sshd, to schedule)`);
  log(`node ${node.name} (${node.host}), ${ours.count} containers; all transports returned the same number of containers: ${counts.size === 1 ? 'yes' : 'no (the lab changed during the run, or a transport lists differently)'}`);
  const width = Math.max(34, ...Object.keys(stats).map((n) => n.length));
  log(`${'transport'.padEnd(width)} ${'n'.padStart(3)} ${'items'.padStart(5)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p50 vs ours'.padStart(12)}`);
  for (const [name, s] of Object.entries(stats)) {
    log(`${name.padEnd(width)} ${String(s.n).padStart(3)} ${String(s.count).padStart(5)} ${r2(s.p50).toFixed(2).padStart(9)} ${r2(s.p95).toFixed(2).padStart(9)} ${`${r2(s.p50 / ours.p50).toFixed(2)}x`.padStart(12)}`);
  }

  const results: BenchResult[] = [];
  const add = (what: 'p50' | 'p95', baselineName: string, goal: string, test: (ratio: number) => boolean): void => {
    const b = stats[baselineName];
    if (b === undefined) { return; }
    const ratio = ours[what] / b[what];
    results.push({ name: `listContainers ${what}: ours vs ${baselineName}`, unit: 'ms', ours: r2(ours[what]), baseline: r2(b[what]), baselineName, ratio: Math.round(ratio * 10000) / 10000, goal, met: test(ratio) });
  };
  for (const q of ['p50', 'p95'] as const) {
    add(q, 'dockerode protocol ssh', 'ratio <= 0.01 (at least 100x faster than dockerode ssh)', (r) => r <= 0.01);
    add(q, tcpName, 'ratio <= 1.5 (within 1.5x of plain TCP)', (r) => r <= 1.5);
    add(q, 'ssh CLI docker ps', 'ratio < 1 (faster than the ssh CLI)', (r) => r < 1);
  }
  for (const r of results) { log(`${r.met ? 'MET ' : 'MISS'} ${r.name}: ${r.ours} vs ${r.baseline} ms, ratio ${r.ratio} (${r.goal})`); }
  return results;
}
