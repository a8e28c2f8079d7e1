// Lab times (recorded, compared with the reference numbers measured by hand-written scripts on this
// machine kind): `docker-net-lab lab up` on a running lab (the idempotent check), and a full guided
// replay `run --all --path cluster-store` followed by `reset --yes`. Runs only on the legacy lab in
// cluster mode (the etcd tutorial's setting) and leaves it reset; otherwise prints why it skipped.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { firstLine, machineLine, r2, r4, run } from './benchLab';
import type { BenchResult } from './index';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'docker-net-lab.js');

interface LabStatus { up?: boolean; profile?: string; nodes?: { name: string; mode?: string }[] }

async function timed(args: string[], limitMs: number): Promise<number> {
  const t = performance.now();
  await run(process.execPath, [cli, ...args], limitMs);
  return (performance.now() - t) / 1000;
}

/** Runs the lab-times benchmark; returns its recorded results. */
export async function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) { log('skipped: the local lab needs Linux and root'); return []; }
  let status: LabStatus;
  try {
    status = JSON.parse(await run(process.execPath, [cli, 'lab', 'status', '--json'], 30_000)) as LabStatus;
  } catch (e) {
    log(`skipped: lab status failed: ${firstLine(e)}`);
    return [];
  }
  const modes = (status.nodes ?? []).map((n) => n.mode ?? '?');
  if (status.up !== true || status.profile !== 'legacy' || modes.length < 2 || modes.some((m) => m !== 'cluster')) {
    log(`skipped: needs the legacy lab up in cluster mode (now: up ${String(status.up)}, profile ${status.profile ?? '?'}, modes ${modes.join('/') || 'none'})`);
    return [];
  }
  const up = await timed(['lab', 'up'], 120_000);
  let replay: number | undefined;
  let reset: number | undefined;
  try {
    await timed(['reset', '--yes'], 180_000);
    replay = await timed(['run', '--all', '--path', 'cluster-store', '--yes'], 300_000);
  } catch (e) {
    log(`guided replay failed: ${firstLine(e)}`);
  } finally {
    try { reset = await timed(['reset', '--yes'], 180_000); } catch (e) { log(`reset failed: ${firstLine(e)} — run "docker-net-lab reset --yes"`); }
  }
  log(machineLine());
  log(`lab up on a running lab: ${up.toFixed(1)} s (reference: lab up from stopped 3.6–4.6 s)`);
  if (replay !== undefined) { log(`run --all --path cluster-store: ${replay.toFixed(1)} s (reference: whole etcd tutorial 16–22 s by a hand-written script, no verification)`); }
  if (reset !== undefined) { log(`reset --yes afterwards: ${reset.toFixed(1)} s`); }
  const results: BenchResult[] = [
    { name: 'lab up on a running lab', unit: 's', ours: r2(up), baseline: 4.6, baselineName: 'reference: lab up from stopped, 3.6–4.6 s', ratio: r4(up / 4.6), goal: 'recorded (reference only)', met: true },
  ];
  if (replay !== undefined) {
    results.push({ name: 'guided replay run --all (cluster-store path, verified)', unit: 's', ours: r2(replay), baseline: 22, baselineName: 'reference: etcd tutorial by hand-written script, 16–22 s', ratio: r4(replay / 22), goal: 'recorded (reference only)', met: true });
  }
  for (const r of results) { log(`${r.name}: ${r.ours} s vs ${r.baseline} s (${r.baselineName})`); }
  if (replay === undefined) { throw new Error('the guided replay did not complete'); }
  return results;
}
