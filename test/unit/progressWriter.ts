// A second writer of a progress file, in its own process (used by progressStore.test.ts; not a test itself).
// usage: node progressWriter.js <file> <key> <step prefix> <count> [<start barrier file>]
// Waits until the barrier file exists (so several writers start together), then records <count> steps.
import * as fs from 'node:fs';
import { ProgressStore } from '../../src/core/lab/progressStore';

const [file, key, prefix, countText, barrier] = process.argv.slice(2);
if (file === undefined || key === undefined || prefix === undefined || countText === undefined) {
  process.stderr.write('usage: progressWriter <file> <key> <prefix> <count> [<barrier>]\n');
  process.exit(2);
}
const wait = new Int32Array(new SharedArrayBuffer(4));
while (barrier !== undefined && !fs.existsSync(barrier)) { Atomics.wait(wait, 0, 0, 2); }
const store = new ProgressStore(file, key, { onWarning: (m) => process.stderr.write(`${m}\n`) });
const count = Number(countText);
for (let i = 0; i < count; i++) {
  store.recordStep(`${prefix}-${i}`, { status: 'passed', at: new Date().toISOString(), durationMs: i });
  if (i % 7 === 0) { store.setCapture(`${prefix}Ip`, `10.0.0.${i % 250}`); }
}
process.stdout.write('done\n');
