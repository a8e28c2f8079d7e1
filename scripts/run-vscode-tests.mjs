// The mocha suite of test/vscode/suite inside a real VS Code extension host, through the standard
// @vscode/test-electron runTests() contract. Desktop VS Code cannot be downloaded here, so the
// "executable" is scripts/codeServerShim.sh (code-server + headless chromium, see runExtensionTests.mjs).
// Expects a build (npm run build): dist/extension.js and out/test/vscode/suite/index.js.
// Prints the suite's closing line "vscode: N passed, N failed" (or a failure line if the suite never ran).
// --untrusted: the suite of test/vscode/untrusted in a workspace that is NOT trusted (workspace trust on,
// restricted mode; see runExtensionTests.mjs --trust); its closing line is "vscode-untrusted: N passed, N failed".
// --vm: the suite of test/vscode-vm (a learner adds their own two machines), against the VM lab
// (`lab up --profile vm` or `vm-legacy`); when that is not up it prints why and "vscode-vm: 0 passed, 0 failed (skipped …)".
// With DOCKER_NET_LAB_OWN_MACHINES=netns it runs against the netns lab instead (as a non-root user with sudo that
// the suite makes and removes), to develop it where no VM boots. Its closing line is "vscode-vm: N passed, N failed".
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const untrusted = process.argv.includes('--untrusted');
const vm = process.argv.includes('--vm');
const label = vm ? 'vscode-vm' : untrusted ? 'vscode-untrusted' : 'vscode';
const extensionTestsPath = vm ? path.join(root, 'out', 'test', 'vscode-vm') : path.join(root, 'out', 'test', 'vscode', untrusted ? 'untrusted' : 'suite');
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

if (vm) {
  const target = ownMachinesTarget();
  if (typeof target !== 'string') {
    console.log(`${label}: skipped: ${target.skip}`);
    console.log(`${label}: 0 passed, 0 failed (skipped: ${target.skip})`);
    process.exit(0);
  }
  // read by test/vscode-vm: which lab the suite adds as the learner's own machines
  process.env.DOCKER_NET_LAB_OWN_MACHINES = target;
}

/**
 * Which lab test/vscode-vm runs against: the VM profile ("vm" or "vm-legacy") when the VM lab is up (`lab status` passes),
 * "netns" when asked for with DOCKER_NET_LAB_OWN_MACHINES=netns and the netns lab is up; else { skip: why }.
 */
function ownMachinesTarget() {
  const state = '/var/lib/docker-net-lab';
  let profile;
  try {
    profile = JSON.parse(fs.readFileSync(path.join(state, 'lab-profile.json'), 'utf8')).profile;
  } catch {
    profile = undefined;
  }
  const wanted = process.env.DOCKER_NET_LAB_OWN_MACHINES === 'netns' ? 'netns' : 'vm';
  const isVm = profile === 'vm' || profile === 'vm-legacy';
  if (wanted === 'vm' && !isVm) {
    return { skip: `the VM lab is not up (lab profile: ${profile ?? 'none'}); start it with: node bin/docker-net-lab.js lab up --profile vm` };
  }
  if (wanted === 'netns' && (profile === undefined || isVm)) {
    return { skip: `DOCKER_NET_LAB_OWN_MACHINES=netns needs the netns lab up (lab profile: ${profile ?? 'none'})` };
  }
  if (!fs.existsSync(path.join(state, 'nodes.json'))) {
    return { skip: `no nodes file ${path.join(state, 'nodes.json')}: the lab is not up` };
  }
  const status = spawnSync(process.execPath, [path.join(root, 'bin', 'docker-net-lab.js'), 'lab', 'status', '--json'], { encoding: 'utf8', timeout: 120_000 });
  if (status.status !== 0) {
    return { skip: `lab status failed (exit ${status.status ?? status.signal}): ${(status.stderr || status.stdout).trim().split('\n')[0] ?? ''}` };
  }
  return wanted === 'vm' ? profile : wanted;
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
    launchArgs: process.argv.slice(2).filter((a) => a !== '--untrusted' && a !== '--vm'),
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
