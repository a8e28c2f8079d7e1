// VM boot times: `lab up --profile vm` cold (the saved ready state purged: boot, images, save, resume) and warm
// (resumed from the saved state), to SSH and to Docker answering over SSH, next to the netns `lab up` (legacy
// profile, from a stopped lab) of the same run. Leaves the lab up in the legacy profile. Linux and root only.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { firstLine, machineLine, r2, r4, run } from './benchLab';
import type { BenchResult } from './index';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'docker-net-lab.js');

async function timed(args: string[], limitMs: number): Promise<{ s: number; out: string }> {
  const t = performance.now();
  const out = await run(process.execPath, [cli, ...args], limitMs);
  return { s: (performance.now() - t) / 1000, out };
}

/** The slowest node's value of `re` (ms) in `lab up` output, in seconds. */
function slowest(out: string, re: RegExp): number | undefined {
  const all = [...out.matchAll(re)].map((m) => Number(m[1]));
  return all.length === 0 ? undefined : Math.max(...all) / 1000;
}

/** Runs the VM boot benchmark; returns its recorded results. */
export async function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) { log('skipped: the VM lab needs Linux and root'); return []; }
  try {
    await run('qemu-system-x86_64', ['--version'], 10_000);
  } catch (e) {
    log(`skipped: no QEMU (${firstLine(e)})`);
    return [];
  }
  await timed(['lab', 'down'], 300_000);
  const netns = await timed(['lab', 'up'], 600_000);
  await timed(['lab', 'down', '--purge'], 300_000);
  let cold: { s: number; out: string } | undefined;
  let warm: { s: number; out: string } | undefined;
  try {
    cold = await timed(['lab', 'up', '--profile', 'vm'], 1_800_000);
    await timed(['lab', 'down'], 300_000);
    warm = await timed(['lab', 'up', '--profile', 'vm'], 600_000);
  } finally {
    await timed(['lab', 'up', '--profile', 'legacy', '--mode', 'cluster'], 600_000).catch((e: unknown) => log(`restoring the legacy lab failed: ${firstLine(e)}`));
  }
  const coldSsh = slowest(cold.out, /cold boot: SSH after (\d+) ms/g);
  const coldDocker = slowest(cold.out, /cold boot: SSH after \d+ ms, Docker after (\d+) ms/g);
  const warmResume = slowest(warm.out, /resumed from the ready state in (\d+) ms/g);
  const warmDocker = slowest(warm.out, /Docker answers (\d+) ms after the resume began/g);
  log(machineLine());
  log(`${'measurement'.padEnd(44)} ${'VM (s)'.padStart(8)}  netns lab up (s)`);
  const row = (name: string, s: number | undefined): void => log(`${name.padEnd(44)} ${(s === undefined ? '?' : s.toFixed(1)).padStart(8)}  ${netns.s.toFixed(1)}`);
  row('cold: boot to SSH (slowest VM)', coldSsh);
  row('cold: boot to Docker ready', coldDocker);
  row('cold: whole lab up --profile vm (images, save)', cold.s);
  row('warm: resume to SSH (slowest VM)', warmResume);
  row('warm: resume to Docker ready', warmDocker);
  row('warm: whole lab up --profile vm', warm.s);
  const result = (name: string, s: number, goal: string, met: boolean): BenchResult => ({
    name, unit: 's', ours: r2(s), baseline: r2(netns.s), baselineName: 'netns lab up (legacy, from stopped) in the same run', ratio: r4(s / netns.s), goal, met,
  });
  return [
    result('VM lab up cold (boot, images, state saved)', cold.s, 'recorded (vm stage budget: 25 min)', true),
    result('VM lab up warm (resumed)', warm.s, 'warm lab up <= 30 s', warm.s <= 30),
    ...(coldDocker === undefined ? [] : [result('VM cold boot to Docker ready', coldDocker, 'recorded', true)]),
    ...(warmDocker === undefined ? [] : [result('VM warm resume to Docker ready', warmDocker, 'recorded', true)]),
  ];
}
