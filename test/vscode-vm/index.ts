// Entry point of the "own machines" VS Code run (scripts/run-vscode-tests.mjs --vm): the extension host
// require()s this module (extensionTestsPath) and awaits run(). Ends with "vscode-vm: N passed, N failed".
import { runMochaSuite } from '../vscode/mochaRunner';

/** Runs the suite; rejects when a test failed or none ran. */
export function run(): Promise<void> {
  return runMochaSuite(__dirname, 'vscode-vm');
}
