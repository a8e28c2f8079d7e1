// npm start: build, make sure the tools exist, bring the local lab up, package the extension and
// install it into a code-server whose user data lives in the cache (kept between runs), then serve
// VS Code on 127.0.0.1 until Ctrl-C. Port: $PORT, else 8080 when free, else a free one.
// When the desktop `code` CLI is on PATH the .vsix is installed there too.
//
// usage: node scripts/start.mjs [--no-lab] [--folder=DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './ensureTools.mjs';
import { installVsix, packageExtension, portFree, startCodeServer, writeUserSettings } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const t0 = Date.now();
const say = (s) => console.log(`[start ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);
const fail = (s) => { console.error(`[start] ${s}`); process.exit(1); };

const cacheBase = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'docker-net-lab');
const home = path.join(cacheBase, 'start');
const dirs = {
  configFile: path.join(home, 'config.yaml'),
  userDataDir: path.join(home, 'user-data'),
  extensionsDir: path.join(home, 'extensions'),
  tmpDir: path.join(home, 'tmp'),
};
const folderArg = args.find((a) => a.startsWith('--folder='))?.slice('--folder='.length);
const folder = folderArg ? path.resolve(folderArg) : path.join(home, 'workspace');

function step(label, cmd, cmdArgs) {
  say(label);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

// 1. build
if (!step('npm run build', 'npm', ['run', '--silent', 'build'])) fail('the build failed (see above)');

// 2. tools (Node 24 + code-server in the cache; chromium/libkrb5-dev via apt when root)
let tools;
try {
  tools = ensureTools({ apt: process.getuid?.() === 0, log: (s) => say(s) });
} catch (e) {
  fail(`tools: ${e instanceof Error ? e.message : String(e)}`);
}

// 3. the local lab (root only); the extension reads its nodes file by default
if (args.includes('--no-lab')) {
  say('lab: skipped (--no-lab)');
} else if (process.getuid?.() !== 0) {
  say('lab: not started (needs root: sudo node bin/docker-net-lab.js lab up); the views will show how to connect');
} else if (!step('docker-net-lab lab up', 'node', [path.join(root, 'bin', 'docker-net-lab.js'), 'lab', 'up'])) {
  say('lab: "lab up" failed (see above); starting VS Code anyway');
}

// 4. package + install
let vsix;
try {
  say('packaging the extension');
  vsix = packageExtension(root, { build: false });
  for (const d of Object.values(dirs)) if (!d.endsWith('.yaml')) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(folder, { recursive: true });
  // quiet defaults once; later edits the user makes in VS Code are kept
  if (!fs.existsSync(path.join(dirs.userDataDir, 'User', 'settings.json'))) writeUserSettings(dirs.userDataDir);
  say(`installing ${path.relative(root, vsix)} into code-server (${home})`);
  installVsix(tools, dirs, vsix);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
const desktop = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' }).stdout.trim();
if (desktop) {
  const r = spawnSync(desktop, ['--install-extension', vsix, '--force'], { encoding: 'utf8' });
  say(r.status === 0 ? `also installed into desktop VS Code (${desktop})` : `desktop VS Code (${desktop}) install failed: ${r.stderr.trim()}`);
}

// 5. port + serve
let port = 0;
if (process.env.PORT) {
  port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT=${process.env.PORT} is not a port number`);
  if (!(await portFree(port))) fail(`PORT=${port} is in use on 127.0.0.1`);
} else if (await portFree(8080)) {
  port = 8080;
}

let server;
try {
  // You trust what you start: this private code-server (its own user data, 127.0.0.1 only) serves
  // the folder `npm start` made for the lab, so workspace trust is off in it. Trust in browsers is
  // per browser profile; a flag on this instance needs no prompt in any of them. Every other VS Code
  // (and the untrusted test suite) keeps workspace trust as it is.
  server = await startCodeServer({ tools, dirs, port, extraArgs: ['--disable-workspace-trust'], logFile: path.join(home, 'code-server.log') });
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
console.log(`\nVS Code with Docker Network Lab: ${server.url(folder)}\n(code-server ${path.basename(tools.csRoot)}, process group ${server.pid}, log ${path.join(home, 'code-server.log')}; Ctrl-C stops it)\n`);

let stopping = false;
const shutdown = async (sig) => {
  if (stopping) return;
  stopping = true;
  say(`${sig}: stopping code-server`);
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
const code = await server.exited;
if (!stopping) {
  await server.stop();
  fail(`code-server exited on its own (${code}); see ${path.join(home, 'code-server.log')}`);
}
