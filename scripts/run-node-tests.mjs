// Runs the compiled *.test.js files under a folder with node's own test runner, streams the spec
// report, and ends with the closing line CI reads: "<label>: N passed, N failed, N skipped".
// usage: node scripts/run-node-tests.mjs <label> <dir> [--concurrency=N] [--timeout=MS] [--grep=RE]
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import fs from 'node:fs';
import path from 'node:path';

const [label, dir, ...opts] = process.argv.slice(2);
if (!label || !dir) { console.error('usage: run-node-tests.mjs <label> <dir>'); process.exit(2); }
const opt = (k, d) => { const o = opts.find((a) => a.startsWith(`--${k}=`)); return o ? o.slice(k.length + 3) : d; };
const grep = opt('grep', undefined);

function find(d) {
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.js') && (!grep || new RegExp(grep).test(p)) ? [p] : [];
  });
}
const files = find(dir).sort();
if (files.length === 0) { console.error(`${label}: no test files under ${dir}`); console.log(`${label}: 0 passed, 1 failed`); process.exit(1); }

let passed = 0, failed = 0, skipped = 0;
const stream = run({ files, concurrency: Number(opt('concurrency', '1')), timeout: Number(opt('timeout', '600000')) });
stream.on('test:pass', (e) => { if (e.details?.type !== 'suite') { if (e.skip || e.todo) skipped++; else passed++; } });
stream.on('test:fail', (e) => { if (e.details?.type !== 'suite' || e.details?.error?.failureType === 'hookFailed' || e.details?.error?.failureType === 'testCodeFailure') failed++; });
const report = stream.compose(spec);
report.pipe(process.stdout);
report.on('end', () => {
  console.log(`${label}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});
