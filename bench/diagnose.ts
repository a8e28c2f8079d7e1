// Diagnostics benchmark: throughput of the incremental matcher over a large `journalctl -u docker`-like
// log (real benign lab output with ~0.1% error lines), at 25/50/100 MB to show linear growth, against a
// naive matcher that runs every rule's regex on every line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DiagnosticMatcher } from '../src/core/diagnostics/matcher';
import { diagnosticRules } from '../src/core/diagnostics/rules';
import type { BenchResult } from './index';

const MB = 1_000_000;

/** Error lines mixed into the log (journald form), as learners of the tutorial see them. */
const errorLines = [
  'dockerd[7229]: time="2026-11-25T18:00:00Z" level=error msg="Failed to deserialize netlink ndmsg: invalid argument"',
  'dockerd[7229]: time="2026-11-25T18:00:01Z" level=error msg="discovery error: Unexpected watch error"',
  'dockerd[7229]: time="2026-11-25T18:00:02Z" level=warning msg="memberlist: Failed fallback ping: read tcp 10.99.0.11:44095->10.99.0.12:7946: i/o timeout"',
  'etcd[2284]: health check for peer 23dcfdd58cfcc00d could not connect: dial tcp 10.99.0.12:2380: connect: no route to host',
  'dockerd[7229]: Status: unknown flag: --cluster-store',
  'docker[900]: docker: Error response from daemon: endpoint with name redis already exists in network my-overlay.',
  'docker[901]: docker: Error response from daemon: driver failed programming external connectivity on endpoint web2 (4f1c): Bind for 0.0.0.0:80 failed: port is already allocated.',
];

function fixtureLines(): string[] {
  const file = path.resolve(__dirname, '..', '..', 'test', 'unit', 'fixtures', 'diagnostics', 'benign-lab-output.txt');
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** Writes a log of at least `bytes` bytes; returns the number of error lines written. */
function buildLog(file: string, bytes: number): number {
  const benign = fixtureLines();
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let errors = 0;
  let i = 0;
  const parts: string[] = [];
  let pending = 0;
  while (written < bytes) {
    const sec = String(i % 60).padStart(2, '0');
    const prefix = `Nov 25 18:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${sec} docker-node${(i % 2) + 1} `;
    const body = i % 1000 === 999 ? errorLines[errors++ % errorLines.length] : `dockerd[7229]: ${benign[i % benign.length] ?? ''}`;
    const line = `${prefix}${body ?? ''}\n`;
    parts.push(line);
    pending += line.length;
    written += line.length;
    i++;
    if (pending > 4 * MB) { fs.writeSync(fd, parts.join('')); parts.length = 0; pending = 0; }
  }
  fs.writeSync(fd, parts.join(''));
  fs.closeSync(fd);
  return errors;
}

async function streamDiagnose(file: string, bytes: number): Promise<{ seconds: number; cpuSeconds: number; findings: number; hits: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m = new DiagnosticMatcher();
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20, start: 0, end: bytes - 1 });
  for await (const chunk of stream) { m.feed(chunk as string); }
  m.end();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const f = m.findings();
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, findings: f.length, hits: f.reduce((n, x) => n + x.count, 0) };
}

async function naiveDiagnose(file: string, bytes: number): Promise<{ seconds: number; cpuSeconds: number; hits: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const patterns = diagnosticRules.map((r) => r.pattern);
  let carry = '';
  let hits = 0;
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20, start: 0, end: bytes - 1 });
  const scan = (line: string): void => { for (const p of patterns) { if (p.test(line)) { hits++; } } };
  for await (const chunk of stream) {
    const lines = (carry + (chunk as string)).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) { scan(line); }
  }
  if (carry !== '') { scan(carry); }
  const cpu = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, hits };
}

/** Runs the benchmark; prints a table through `log`. */
export async function runBench(log: (line: string) => void = (l) => console.log(l)): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-diagnose-bench-'));
  const file = path.join(dir, 'journal-docker.log');
  try {
    const errors = buildLog(file, 100 * MB);
    const size = fs.statSync(file).size;
    log(`log: ${(size / MB).toFixed(1)} MB, ${errors} error lines (~0.1%), ${diagnosticRules.length} rules`);
    await streamDiagnose(file, 5 * MB); // warm-up (JIT, page cache)
    const rows: { mb: number; seconds: number; cpuSeconds: number; findings: number; hits: number }[] = [];
    for (const mb of [25, 50, 100]) {
      const best = [await streamDiagnose(file, mb * MB), await streamDiagnose(file, mb * MB)].sort((a, b) => a.seconds - b.seconds)[0]!;
      rows.push({ mb, ...best });
    }
    const naiveMb = 10;
    const naive = await naiveDiagnose(file, naiveMb * MB);
    const naiveRate = naiveMb / naive.seconds;
    const naiveCpuRate = naiveMb / naive.cpuSeconds;
    log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs (wall time suffers when the machine is busy; CPU time less so)`);
    log('size    wall      throughput    cpu       throughput   findings  occurrences');
    for (const r of rows) {
      log(`${String(r.mb).padStart(3)} MB  ${r.seconds.toFixed(3).padStart(7)} s ${(r.mb / r.seconds).toFixed(1).padStart(7)} MB/s  ${r.cpuSeconds.toFixed(3).padStart(7)} s ${(r.mb / r.cpuSeconds).toFixed(1).padStart(7)} MB/s  ${String(r.findings).padStart(8)}  ${String(r.hits).padStart(11)}`);
    }
    log(`naive (every rule regex on every line), first ${naiveMb} MB: wall ${naive.seconds.toFixed(3)} s = ${naiveRate.toFixed(1)} MB/s, cpu ${naive.cpuSeconds.toFixed(3)} s = ${naiveCpuRate.toFixed(1)} MB/s (${naive.hits} rule matches)`);
    const r100 = rows[2]!;
    const r25 = rows[0]!;
    const ours = 100 / r100.seconds;
    const growth = r100.cpuSeconds / r25.cpuSeconds;
    log(`cpu time(100 MB) / cpu time(25 MB) = ${growth.toFixed(2)} (linear = 4); wall: ${(r100.seconds / r25.seconds).toFixed(2)}`);
    return [
      { name: 'diagnose throughput, 100 MB journal', unit: 'MB/s', ours, baseline: naiveRate, baselineName: 'every rule regex on every line (wall)', ratio: ours / naiveRate, goal: '>= 100 MB/s', met: ours >= 100 },
      { name: 'diagnose throughput by CPU time, 100 MB journal', unit: 'MB/s', ours: 100 / r100.cpuSeconds, baseline: naiveCpuRate, baselineName: 'every rule regex on every line (CPU time)', ratio: 100 / r100.cpuSeconds / naiveCpuRate, goal: '>= 100 MB/s', met: 100 / r100.cpuSeconds >= 100 },
      { name: 'diagnose CPU time growth 25 -> 100 MB', unit: 'x', ours: growth, baseline: 4, baselineName: 'linear growth', ratio: growth / 4, goal: '<= 4.8 (linear within 20%)', met: growth <= 4.8 },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
