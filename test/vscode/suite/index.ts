// Entry point of the VS Code test run: the extension host require()s this module (extensionTestsPath)
// and awaits run(). Loads every *.test.js beside this file into mocha (tdd UI) and ends with the
// closing line CI reads: "vscode: N passed, N failed".
import { runMochaSuite } from '../mochaRunner';

/** Runs the suite; rejects when a test failed or none ran. */
export function run(): Promise<void> {
  return runMochaSuite(__dirname, 'vscode');
}
