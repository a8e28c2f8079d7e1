// The mocha suite of test/vscode/suite inside a real VS Code extension host, through the standard
// @vscode/test-electron runTests() contract. Desktop VS Code cannot be downloaded here, so the
// "executable" is scripts/codeServerShim.sh (code-server + headless chromium, see runExtensionTests.mjs).
// Expects a build (npm run build): dist/extension.js and out/test/vscode/suite/index.js.
// Prints the suite's closing line "vscode: N passed, N failed" (or a failure line if the suite never ran).
// --untrusted: the suite of test/vscode/untrusted in a workspace that is NOT trusted (workspace trust on,
// restricted mode; see runExtensionTests.mjs --trust); its closing line is "vscode-untrusted: N passed, N failed".
import { runTests } from '@vscode/test-electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const untrusted = process.argv.includes('--untrusted');
const label = untrusted ? 'vscode-untrusted' : 'vscode';
const extensionTestsPath = path.join(root, 'out', 'test', 'vscode', untrusted ? 'untrusted' : 'suite');
// read by runExtensionTests.mjs (through the shim) and, as a cross-check, by the untrusted suite itself
process.env.DOCKER_NET_LAB_TEST_TRUST = untrusted ? 'untrusted' : 'trusted';
const shim = path.join(root, 'scripts', 'codeServerShim.sh');

for (const f of [path.join(root, 'dist', 'extension.js'), path.join(extensionTestsPath, 'index.js')]) {
  if (!fs.existsSync(f)) {
    console.error(`missing ${path.relative(root, f)}: run npm run build first`);
    console.log(`${label}: 0 passed, 1 failed`);
    process.exit(1);
  }
}

// Watch our own stdout for the suite's closing line (runTests pipes the child's output through it).
let sawSummary = false;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (new RegExp(`^${label}: \\d+ passed, \\d+ failed`, 'm').test(String(chunk))) sawSummary = true;
  return write(chunk, ...rest);
};

let code = 0;
try {
  await runTests({
    vscodeExecutablePath: shim,
    extensionDevelopmentPath: root,
    extensionTestsPath,
    // our runner makes its own user-data/extensions dirs; keep test-electron from adding .vscode-test ones
    reuseMachineInstall: true,
    launchArgs: process.argv.slice(2).filter((a) => a !== '--untrusted'),
  });
} catch (e) {
  console.error(`VS Code tests failed: ${e instanceof Error ? e.message : String(e)}`);
  code = 1;
}
if (!sawSummary) {
  console.log(`${label}: 0 passed, 1 failed (the suite did not report; see the output above)`);
  code = 1;
}
process.exit(code);
