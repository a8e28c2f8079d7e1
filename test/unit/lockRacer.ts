// Child of labLock.test.ts: waits until START (ms since the epoch), then tries once to take the lock FILE
// (withLock with no wait); the winner holds it for HOLD ms. Prints "won" or "lost".
// usage: node lockRacer.js FILE START HOLD
import { withLock } from '../../lab/labProc';

async function main(): Promise<void> {
  const [file, start, hold] = process.argv.slice(2);
  const at = Number(start);
  while (Date.now() < at) { /* spin: both racers leave the line together */ }
  try {
    await withLock(file ?? '', 0, () => undefined, () => new Promise<void>((r) => setTimeout(r, Number(hold))));
    process.stdout.write('won\n');
  } catch {
    process.stdout.write('lost\n');
  }
}

if (require.main === module) { void main(); }
