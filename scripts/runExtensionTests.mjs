// Runs an extension's test suite inside a real VS Code extension host, headless: a private
// code-server (Code 1.139, Node 24 extension host) opened in headless Debian chromium with the
// smoke-test driver's URL payload (extensionDevelopmentPath + extensionTestsPath). Test output is
// relayed; the exit code is the suite's result.
//
// usage: node scripts/runExtensionTests.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=DIR_OR_FILE
//          [--folder=DIR] [--trust=trusted|untrusted] [--timeout=SECONDS] [--screenshot=FILE.png] [--logsDir=DIR]
//          [--keepTmp] [--verbose]
// --trust (or DOCKER_NET_LAB_TEST_TRUST): "trusted" (default) turns workspace trust off, so every folder
// is trusted; "untrusted" turns it on and opens a fresh folder nobody trusted (restricted mode: the
// extension host sees vscode.workspace.isTrusted === false), with no startup trust dialog.
// Unknown arguments (the Electron flags @vscode/test-electron adds) are ignored, so
// scripts/codeServerShim.sh can stand in for the VS Code executable in runTests().
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { ensureTools, toolsReady, toolPaths } from './ensureTools.mjs';
import { workbenchSession, writeUserSettings } from './codeServer.mjs';

function parseArgs(argv) {
  const out = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { out.positional.push(a); continue; }
    const eq = a.indexOf('=');
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue; }
    const key = a.slice(2);
    // "--extensionDevelopmentPath DIR" form (only for the options we know take a value)
    if (['extensionDevelopmentPath', 'extensionTestsPath', 'folder', 'trust', 'timeout', 'screenshot', 'logsDir'].includes(key) && argv[i + 1] && !argv[i + 1].startsWith('--')) {
      out[key] = argv[++i];
    } else {
      out[key] = true;
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (typeof args.extensionDevelopmentPath !== 'string' || typeof args.extensionTestsPath !== 'string') {
  console.error('usage: runExtensionTests.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=DIR_OR_FILE [--folder=DIR] [--timeout=S]');
  process.exit(2);
}
const devPath = path.resolve(args.extensionDevelopmentPath);
const testsPath = path.resolve(args.extensionTestsPath);
const timeoutMs = Number(args.timeout ?? 600) * 1000;
const verbose = Boolean(args.verbose) || process.env.DOCKER_NET_LAB_VERBOSE === '1';
const trust = typeof args.trust === 'string' ? args.trust : (process.env.DOCKER_NET_LAB_TEST_TRUST || 'trusted');
if (trust !== 'trusted' && trust !== 'untrusted') {
  console.error(`--trust must be trusted or untrusted, not "${trust}"`);
  process.exit(2);
}
const t0 = Date.now();
const say = (...a) => console.log(`[vscode-runner ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

let tools = toolPaths();
if (!toolsReady(tools)) {
  say('tools missing: installing (scripts/ensureTools.mjs)');
  tools = ensureTools({ apt: false, log: (s) => say(s) });
}
if (!fs.existsSync(tools.chromium)) {
  console.error(`chromium not found at ${tools.chromium}; run: node scripts/ensureTools.mjs`);
  process.exit(1);
}

const session = workbenchSession('dnl-vscode-test-', { keepTmp: Boolean(args.keepTmp), onSignal: (sig) => say(`${sig}: stopping code-server`) });
const { tmp, dirs } = session;
// a directory positional (test-electron launchArgs style) or --folder is the workspace; else an empty one
const positionalDir = args.positional.find((p) => fs.existsSync(p) && fs.statSync(p).isDirectory());
const folder = typeof args.folder === 'string' ? path.resolve(args.folder)
  : positionalDir ? path.resolve(positionalDir) : path.join(tmp, 'workspace');
fs.mkdirSync(folder, { recursive: true });
// trusted: workspace trust off = every folder trusted (the extension refuses remote commands when untrusted).
// untrusted: trust on, and the folder is new to this fresh user-data dir and browser profile, so nobody
// trusted it; "startupPrompt: never" opens it in restricted mode without the modal trust dialog.
const trustSettings = trust === 'trusted' ? { 'security.workspace.trust.enabled': false } : {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.untrustedFiles': 'open',
  'security.workspace.trust.emptyWindow': false,
};
// DOCKER_NET_LAB_TEST_SETTINGS: extra user settings as JSON (to diagnose, e.g. '{"http.proxySupport":"off"}')
const extraSettings = process.env.DOCKER_NET_LAB_TEST_SETTINGS ? JSON.parse(process.env.DOCKER_NET_LAB_TEST_SETTINGS) : {};
writeUserSettings(dirs.userDataDir, { ...trustSettings, ...extraSettings });

// Workbench and extension-host chatter that says nothing about the tests.
const NOISE = /^\[(AgentHost|AgentHost:remote|ChatModelSelection|AccountPolicyGate|Service Worker|reconnection-grace-time)\]|^(Creating a socket|Resolving connection token|Resolved connection token|Updating additional builtin)|ENOTFOUND|^Canceled: Canceled|^%s%s$|^\s*$/;

let exitCode = 1;
try {
  const server = await session.startServer({
    tools,
    // without the smoke-test driver a built VS Code ignores the URL payload
    extraArgs: [...(trust === 'trusted' ? ['--disable-workspace-trust'] : []), '--disable-getting-started-override', '--vscode-option', 'enable-smoke-test-driver'],
    logFile: path.join(tmp, 'code-server.log'),
    onLine: verbose ? (l) => console.log(`[code-server] ${l}`) : undefined,
  });
  say(`code-server listening on 127.0.0.1:${server.port} (pgid ${server.pid}, workspace ${trust})`);

  const payload = [
    ['extensionDevelopmentPath', server.remote(devPath)],
    ['extensionTestsPath', server.remote(testsPath)],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  const url = server.url(folder, payload);
  const page = await session.openPage(tools, { onPageError: (e) => say('page error:', e.message) });
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const automationLog = fs.createWriteStream(path.join(tmp, 'automation.log'));
  // the workbench forwards extension-host console output (the mocha report) here
  await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
    const text = util.format(...(Array.isArray(logArgs) ? logArgs : [logArgs]));
    automationLog.write(`${type} ${text}\n`);
    if (verbose || !NOISE.test(text)) console.log(type === 'info' || type === 'log' ? text : `[${type}] ${text}`);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    if (typeof args.logsDir === 'string' && Array.isArray(logs)) {
      for (const entry of logs) {
        const f = path.join(path.resolve(args.logsDir), entry.relativePath);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, entry.contents);
      }
    }
    finish(Number(code));
  });
  say(`opening the workbench (folder ${folder})`);
  await page.goto(url);
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const result = await Promise.race([finished, timedOut]);
  clearTimeout(timer);
  automationLog.end();
  if (typeof args.screenshot === 'string') await page.screenshot({ path: args.screenshot }).catch(() => {});
  if (result === 'timeout') {
    say(`TIMEOUT: no result after ${timeoutMs / 1000}s`);
    exitCode = 1;
  } else {
    exitCode = result;
    say(`extension host finished the suite with exit code ${result}`);
  }
} catch (e) {
  say('ERROR', e instanceof Error ? e.message : String(e));
  exitCode = 1;
} finally {
  await session.stop();
  if (exitCode === 0 && !args.keepTmp) session.removeTmp();
  else say(`kept ${tmp} (code-server.log, automation.log)`);
}
process.exit(exitCode);
