// Runs every benchmark module compiled next to this file (out/bench/*.js exporting `runBench`),
// prints their side-by-side tables and writes bench/results.json (an array of BenchResult).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One compared measurement. `ratio` = ours / baseline (lower is better for times). */
export interface BenchResult {
  readonly name: string;
  readonly unit: string;
  readonly ours: number;
  readonly baseline: number;
  readonly baselineName: string;
  readonly ratio: number;
  /** The goal in words, e.g. `ratio <= 0.01 (>= 100x faster)`. */
  readonly goal: string;
  readonly met: boolean;
}

/** What a benchmark module exports. */
export interface BenchModule {
  runBench(log: (line: string) => void): Promise<BenchResult[]>;
}

/**
 * Modules that measure single-call latency run first, on a quiet machine; `topologyRefresh` creates and
 * removes 400 containers (load average 15-20 on 2 cores for a minute or more afterwards), so it runs
 * last but one; `vmBoot` (QEMU VMs under TCG, several minutes) last. Modules not listed run after the listed ones, in name order.
 */
const order = ['transport', 'eventToTree', 'diagnose', 'activation', 'labTimes', 'topologyRefresh', 'vmBoot'];

function rank(file: string): number {
  const i = order.indexOf(file.replace(/\.js$/, ''));
  return i < 0 ? order.length : i;
}

async function main(): Promise<void> {
  const here = __dirname;
  const files = fs.readdirSync(here).filter((f) => f.endsWith('.js') && f !== 'index.js').sort().sort((a, b) => rank(a) - rank(b));
  const all: BenchResult[] = [];
  let failed = 0;
  for (const f of files) {
    const mod = (await import(path.join(here, f))) as Partial<BenchModule>;
    if (typeof mod.runBench !== 'function') { continue; }
    console.log(`\n== ${f.replace(/\.js$/, '')} ==`);
    try {
      all.push(...await mod.runBench((l) => console.log(l)));
    } catch (e) {
      failed++;
      console.log(`bench ${f} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const out = path.resolve(here, '..', '..', 'bench', 'results.json');
  fs.writeFileSync(out, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`\n${all.length} results written to bench/results.json; goals met: ${all.filter((r) => r.met).length}/${all.length}`);
  if (failed > 0) { process.exitCode = 1; }
}

void main();
