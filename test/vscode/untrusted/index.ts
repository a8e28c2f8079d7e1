// Entry point of the untrusted-workspace VS Code run (npm run test:vscode:untrusted): the harness opens
// a folder nobody trusted with workspace trust on (scripts/runExtensionTests.mjs --trust=untrusted).
// Loads every *.test.js beside this file; closing line "vscode-untrusted: N passed, N failed".
import { runMochaSuite } from '../mochaRunner';

/** Runs the suite; rejects when a test failed or none ran. */
export function run(): Promise<void> {
  return runMochaSuite(__dirname, 'vscode-untrusted');
}
