import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

// Two real processes race for a lock whose holder is dead, many times: exactly one may win each round.
const racer = path.join(__dirname, 'lockRacer.js');
const rounds = 25;

function race(file: string, start: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [racer, file, String(start), '600'], { timeout: 20_000 }, (_e, stdout, stderr) => resolve(stdout.trim() + stderr.trim().split('\n').slice(-2).join(' ')));
  });
}

describe('lab lock takeover', { skip: process.platform === 'linux' ? false : 'the lab lock uses flock(1) (Linux)' }, () => {
  it(`two processes racing on a stale lock: exactly one wins, ${rounds} rounds`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablock-race-'));
    const file = path.join(dir, 'lab.lock');
    const tally: string[] = [];
    try {
      for (let i = 0; i < rounds; i++) {
        fs.writeFileSync(file, '999999999\n'); // a holder that is gone
        const start = Date.now() + 400; // after both have started
        const results = await Promise.all([race(file, start), race(file, start)]);
        tally.push(results.sort().join('/'));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const bad = tally.filter((t) => t !== 'lost/won');
    assert.deepEqual(bad, [], `rounds without exactly one winner: ${bad.length} of ${rounds} (${bad.join(', ')})`);
  });
});
