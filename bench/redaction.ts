// Throughput of redacting command output: 50 MB of text in 32 KiB chunks (the size ssh2 delivers),
// three secrets registered. Baseline: redact() of each chunk on its own (what stderr had before; it
// misses a secret split across two chunks). Ours: the stream redactor, which also catches those.
import { randomBytes } from 'node:crypto';
import { createStreamRedactor, redact, registerSecret } from '../src/core/logger';
import type { BenchResult } from './index';

const totalBytes = 50 * 1024 * 1024;
const chunkBytes = 32 * 1024;

function chunks(): string[] {
  const line = 'Step 3/7 : RUN apt-get install -y iproute2 net-tools curl  ---> Running in 4c1d2e3f\n';
  const chunk = line.repeat(Math.ceil(chunkBytes / line.length)).slice(0, chunkBytes);
  return Array.from({ length: totalBytes / chunkBytes }, () => chunk);
}

function mbPerSecond(run: () => void): number {
  const t0 = process.hrtime.bigint();
  run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return totalBytes / 1024 / 1024 / s;
}

/** Runs the comparison (3 rounds each, best kept). */
export function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  for (const s of [`Pw-${randomBytes(9).toString('base64url')}`, `Sudo-${randomBytes(9).toString('base64url')}`, `Pp-${randomBytes(12).toString('hex')}`]) {
    registerSecret(s);
  }
  const input = chunks();
  let sink = 0;
  const perChunk = (): void => { for (const c of input) { sink += redact(c).length; } };
  const stream = (): void => {
    const r = createStreamRedactor();
    for (const c of input) { sink += r.write(c).length; }
    sink += r.end().length;
  };
  let baseline = 0;
  let ours = 0;
  for (let i = 0; i < 3; i++) {
    baseline = Math.max(baseline, mbPerSecond(perChunk));
    ours = Math.max(ours, mbPerSecond(stream));
  }
  log(`redact per chunk (baseline): ${baseline.toFixed(0)} MB/s`);
  log(`stream redactor (ours):      ${ours.toFixed(0)} MB/s (${(sink / 1024 / 1024).toFixed(0)} MB passed on)`);
  const ratio = ours / baseline;
  return Promise.resolve([{
    name: 'redact 50 MB of command output', unit: 'MB/s', ours, baseline, baselineName: 'redact() per chunk',
    ratio, goal: 'ratio >= 0.5 (at least half the throughput of the per-chunk redact)', met: ratio >= 0.5,
  }]);
}
