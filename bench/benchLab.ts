// Shared helpers of the live benchmarks (no `runBench` here, so bench/index.ts skips this module):
// the lab's nodes, timing statistics, the ssh CLI argument list and a bounded child-process runner.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { labKnownHostsFile, labNodesFile } from '../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../src/core/nodes/nodeConfig';
import { readNodesFile } from '../src/core/nodes/nodesFile';

/** Order statistics of a list of timings, ms. */
export interface Stats { readonly p50: number; readonly p95: number; readonly min: number; readonly max: number; readonly n: number }

/** Nearest-rank quantile of an ascending list. */
export function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** p50/p95/min/max of unsorted timings. */
export function statsOf(times: readonly number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length };
}

/** Rounds to two decimals. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Rounds a ratio to four decimals. */
export const r4 = (x: number): number => Math.round(x * 10000) / 10000;

/** The machine line printed with every live benchmark. */
export function machineLine(): string {
  return `machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}

/** The nodes of the local lab, or a reason why there are none. */
export function labNodes(): { nodes: NodeConfig[] } | { skip: string } {
  const file = labNodesFile();
  if (!fs.existsSync(file)) { return { skip: `no lab nodes file at ${file} (run "docker-net-lab lab up" as root first)` }; }
  if (!fs.existsSync(labKnownHostsFile())) { return { skip: `${labKnownHostsFile()} is missing` }; }
  const nodes = readNodesFile(file).nodes;
  if (nodes.length < 2) { return { skip: `the lab nodes file lists ${nodes.length} node(s), 2 are needed` }; }
  return { nodes: [...nodes] };
}

/** Arguments for the ssh CLI to run `remote` on `node` (strict host key checking against the lab's known_hosts). */
export function sshArgs(node: NodeConfig, remote: string): string[] {
  return ['-i', node.keyFile ?? '', '-o', `UserKnownHostsFile=${labKnownHostsFile()}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR', '-p', String(node.port), `${node.user}@${node.host}`, remote];
}

/** Runs a program with a time limit; resolves with stdout, rejects on a non-zero exit or timeout. */
export function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 256 << 20, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err !== null) { reject(new Error(`${cmd} failed: ${err.message.split('\n')[0] ?? ''} ${stderr.slice(0, 300)}`)); return; }
      resolve(stdout);
    });
  });
}

/** First line of an error, for log lines. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
