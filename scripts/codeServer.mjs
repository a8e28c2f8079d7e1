// Shared pieces for the scripts that drive a real VS Code (code-server + headless chromium):
// a private code-server in its own process group, user settings, extension install, the browser.
// Used by runExtensionTests.mjs, ui-smoke.mjs and start.mjs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { codeServerEnv } from './ensureTools.mjs';

/** Quiet, deterministic user settings: no AI/chat, no startup editor, no updates, no telemetry. */
export const QUIET_SETTINGS = {
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'never',
};

/** Writes <userDataDir>/User/settings.json (QUIET_SETTINGS + extra). */
export function writeUserSettings(userDataDir, extra = {}) {
  const dir = path.join(userDataDir, 'User');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.json'), `${JSON.stringify({ ...QUIET_SETTINGS, ...extra }, null, 2)}\n`);
}

/** Arguments every code-server start of ours shares (own dirs, no telemetry/update check). */
function baseArgs({ configFile, userDataDir, extensionsDir }) {
  return ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check'];
}

/**
 * Installs a .vsix into the given user-data/extensions dirs with the code-server CLI.
 * Throws when the CLI fails.
 */
export function installVsix(tools, dirs, vsix) {
  const cfg = dirs.configFile ?? path.join(dirs.userDataDir, '..', 'config.yaml');
  if (!fs.existsSync(cfg)) fs.writeFileSync(cfg, 'auth: none\ncert: false\n');
  const r = spawnSync(tools.node, [tools.codeServerEntry, ...baseArgs({ ...dirs, configFile: cfg }), '--force', '--install-extension', vsix],
    { encoding: 'utf8', env: codeServerEnv(tools) });
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** Resolves with true when 127.0.0.1:<port> can be bound right now. */
export function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Starts code-server (Node 24) detached in its own process group, bound to 127.0.0.1.
 * opts: tools, dirs { userDataDir, extensionsDir, configFile, tmpDir }, port (0 = random),
 * extraArgs, folder (opened by default), onLine(line) for every output line, logFile.
 * Resolves with { port, pid, url(folder?, payload?), stop() } once the HTTP server listens.
 */
export async function startCodeServer({ tools, dirs, port = 0, extraArgs = [], onLine, logFile, startTimeoutMs = 90_000 }) {
  fs.writeFileSync(dirs.configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  // TMPDIR: VS Code leaves vscode-ipc-*/vscode-git-* sockets in it
  const env = { ...codeServerEnv(tools), ...(dirs.tmpDir ? { TMPDIR: dirs.tmpDir } : {}) };
  const child = spawn(tools.node, [tools.codeServerEntry, ...baseArgs(dirs), '--ignore-last-opened', ...extraArgs],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logStream = logFile ? fs.createWriteStream(logFile) : undefined;
  let exited = child.exitCode !== null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, sig) => { exited = true; resolve(code ?? sig); }));

  const stop = async () => {
    const signalGroup = (sig) => { try { process.kill(-child.pid, sig); } catch { /* group already gone */ } };
    if (!exited) {
      signalGroup('SIGTERM');
      const t = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(t);
    }
    // the extension host and watchers are in the same group; make sure none survive the server
    signalGroup('SIGKILL');
    logStream?.end();
  };

  const listening = new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      const s = chunk.toString();
      logStream?.write(s);
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        onLine?.(line);
        const m = line.match(/HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`code-server exited before listening (code ${code})${logFile ? `; log ${logFile}` : ''}`)));
    child.once('error', reject);
    setTimeout(() => reject(new Error(`code-server did not listen within ${startTimeoutMs / 1000}s`)), startTimeoutMs).unref();
  });

  let boundPort;
  try {
    boundPort = await listening;
  } catch (e) {
    await stop();
    throw e;
  }
  const authority = `127.0.0.1:${boundPort}`;
  return {
    port: boundPort,
    pid: child.pid,
    exited: exitPromise,
    /** Workbench URL; payload = [[key, value], ...] of the smoke-test driver. */
    url(folder, payload) {
      const q = [];
      if (folder) q.push(`folder=${encodeURIComponent(folder)}`);
      if (payload) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return `http://${authority}/${q.length ? `?${q.join('&')}` : ''}`;
    },
    /** vscode-remote URI of an absolute path on this machine (as the workbench sees it). */
    remote(absPath) {
      return `vscode-remote://${authority}${absPath}`;
    },
    stop,
  };
}

/**
 * Packages the extension into dist/docker-network-lab.vsix. build=true runs `npm run package`;
 * build=false runs only the vsce part of that script (for a tree that was just built).
 * Returns the .vsix path; throws with the tool output when packaging fails.
 */
export function packageExtension(root, { build = true } = {}) {
  const script = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.package;
  const out = script.match(/-o\s+(\S+\.vsix)/)?.[1] ?? 'dist/docker-network-lab.vsix';
  let r;
  if (build) {
    r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: root, encoding: 'utf8' });
  } else {
    // the package script is "npm run build && vsce package ...": its last part packages
    const vsce = script.split('&&').pop().trim();
    r = spawnSync(vsce, { cwd: root, encoding: 'utf8', shell: true,
      env: { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` } });
  }
  if (r.status !== 0) throw new Error(`packaging failed (${r.status}):\n${r.stdout}${r.stderr}`);
  const vsix = path.resolve(root, out);
  if (!fs.existsSync(vsix)) throw new Error(`packaging did not produce ${out}`);
  return vsix;
}

/** Chromium flags that work headless on these machines. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/**
 * Launches headless Debian chromium with a fresh profile under tmpDir (XDG dirs too, else chromium
 * writes ~/.config/chromium). Returns Playwright's persistent BrowserContext.
 */
export async function launchChromium(tools, tmpDir, viewport = { width: 1400, height: 900 }) {
  const { chromium } = await import('playwright-core');
  const profile = path.join(tmpDir, 'chromium-profile');
  fs.mkdirSync(profile, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: tools.chromium,
    headless: true,
    viewport,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(tmpDir, 'chromium-xdg', 'config'), XDG_CACHE_HOME: path.join(tmpDir, 'chromium-xdg', 'cache') },
    args: CHROMIUM_ARGS,
    // our scripts stop browser and code-server themselves; Playwright's own handlers would
    // process.exit() in the middle of that and leave code-server running
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

/**
 * One throw-away workbench session for a script that drives code-server with headless chromium
 * (the extension test runner, the UI smoke): a fresh temp dir (prefix) with the code-server dirs,
 * startServer(opts) -> startCodeServer with those dirs, openPage(tools) -> headless chromium and its
 * page, stop() (browser, then code-server's whole process group; once), and SIGINT/SIGTERM handling
 * (stop, remove the temp dir unless keepTmp, exit 130).
 */
export function workbenchSession(prefix, { keepTmp = false, onSignal } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dirs = {
    configFile: path.join(tmp, 'config.yaml'),
    userDataDir: path.join(tmp, 'user-data'),
    extensionsDir: path.join(tmp, 'extensions'),
    tmpDir: path.join(tmp, 'tmp'),
  };
  fs.mkdirSync(dirs.tmpDir, { recursive: true });
  let stopping;
  const session = {
    tmp,
    dirs,
    server: undefined,
    browser: undefined,
    page: undefined,
    async startServer(opts) {
      session.server = await startCodeServer({ ...opts, dirs });
      return session.server;
    },
    async openPage(tools, { onPageError, viewport } = {}) {
      session.browser = await launchChromium(tools, tmp, viewport);
      session.page = session.browser.pages()[0] ?? await session.browser.newPage();
      if (onPageError) session.page.on('pageerror', onPageError);
      return session.page;
    },
    stop() {
      stopping ??= (async () => {
        await session.browser?.close().catch(() => {});
        await session.server?.stop();
      })();
      return stopping;
    },
    removeTmp() {
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      onSignal?.(sig);
      void session.stop().finally(() => {
        if (!keepTmp) session.removeTmp();
        process.exit(130);
      });
    });
  }
  return session;
}
