// The mocha run shared by the VS Code suites' entry points (suite/index.ts, untrusted/index.ts): loads
// every *.test.js of one directory (tdd UI) and ends with the closing line CI reads: "<label>: N passed, N failed".
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Runs the *.test.js files of `dir`; rejects when a test failed or none ran. */
export function runMochaSuite(dir: string, label: string): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  // DOCKER_NET_LAB_TEST_GREP=<regex> runs only the matching tests (the variable reaches the extension
  // host through the runner and code-server)
  const grep = process.env['DOCKER_NET_LAB_TEST_GREP'];
  if (grep) {
    mocha.grep(new RegExp(grep));
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) {
    mocha.addFile(path.join(dir, f));
  }
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    try {
      const runner = mocha.run(() => {
        console.log(`${label}: ${passed} passed, ${failed} failed`);
        if (failed > 0) {
          reject(new Error(`${failed} VS Code test(s) failed`));
        } else if (passed === 0) {
          reject(new Error(`no VS Code test ran (files: ${files.join(', ') || 'none'})`));
        } else {
          resolve();
        }
      });
      runner.on('pass', () => { passed++; });
      // 'fail' also fires for failing hooks, which must count as failures
      runner.on('fail', () => { failed++; });
    } catch (e) {
      console.log(`${label}: ${passed} passed, ${failed + 1} failed`);
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
