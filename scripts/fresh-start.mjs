// Stage "fresh" of npm test: `npm start` as a newcomer runs it, from nothing. HOME, the XDG dirs and
// DOCKER_NET_LAB_TOOLS are new empty temp dirs and no npm_* variable of an outer npm is passed on,
// so Node 24 and code-server are installed cold (empty npm cache too) by `npm start` itself, which
// sets its own npm_config_* as any `npm start` does. Then headless chromium with a fresh profile
// opens the printed URL and checks: no trust prompt (not in Restricted Mode), both lab nodes
// connected in the Lab Nodes view, and the walkthrough's "Run this step" of ch1-run-web verifies
// (its step ticks). Screenshot: artifacts/fresh-start.png. Prints the timings and
// "fresh: N passed, N failed".
// Cleanup: stops npm start (and its code-server, by process group), removes the step's container
// `web` on node1, removes the temp dirs (kept with --keepTmp or after a failure).
// Needs root and the local lab up (npm start runs `lab up`, a quick check on a running lab).
//
// usage: node scripts/fresh-start.mjs [--node-bin=DIR] [--keepTmp]
//   --node-bin  run `npm start` with DIR first on PATH (e.g. a Node 24 bin; default: the system's node)
import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, portFree } from './codeServer.mjs';
import { cleanNpmEnv } from './ensureTools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'artifacts');
const LAB = '/var/lib/docker-net-lab';
const STEP = 'ch1-run-web';
/** A step run with node1's dockerd paused, then cancelled from its progress notification. */
const CANCEL_STEP = 'ch1-curl-container-ip';
const START_TIMEOUT_MS = 12 * 60_000; // cold install (~2 min here) + build + lab check + package
const UI_TIMEOUT_MS = 4 * 60_000;

const args = process.argv.slice(2);
const nodeBin = args.find((a) => a.startsWith('--node-bin='))?.slice('--node-bin='.length);
const keepTmp = args.includes('--keepTmp');
const t0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
const log = (s) => console.log(`[fresh ${secs(Date.now() - t0)}] ${s}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-fresh-'));
const dir = (name) => { const d = path.join(tmp, name); fs.mkdirSync(d, { recursive: true }); return d; };
const home = dir('home');
// a newcomer's shell: no npm_* at all (under npm test, the outer npm's npm_config_cache would be warm)
const shellEnv = Object.fromEntries(Object.entries(cleanNpmEnv(process.env)).filter(([k]) => !/^npm_/i.test(k)));
const env = {
  ...shellEnv,
  HOME: home,
  XDG_CACHE_HOME: dir('cache'),
  XDG_CONFIG_HOME: dir('config'),
  XDG_DATA_HOME: dir('data'),
  DOCKER_NET_LAB_TOOLS: path.join(tmp, 'tools'),
};
if (nodeBin) env.PATH = `${path.resolve(nodeBin)}${path.delimiter}${env.PATH}`;

let passed = 0;
let failed = 0;
const timings = {};
let start; // the npm start child (own process group)
let codeServerGroup;
let browser;
const lines = new EventEmitter(); // npm start's output, line by line
const counted = new WeakSet(); // errors a check already counted as failed

/** Resolves when `re` matches a line npm start printed (with the match), rejects on exit or timeout. */
function waitForLine(re, timeoutMs) {
  return new Promise((resolve, reject) => {
    const onLine = (line) => { const m = re.exec(line); if (m) { done(); resolve(m); } };
    const onExit = (code) => { done(); reject(new Error(`npm start exited (${code}) before printing ${re}`)); };
    const timer = setTimeout(() => { done(); reject(new Error(`npm start did not print ${re} within ${secs(timeoutMs)}`)); }, timeoutMs);
    const done = () => { clearTimeout(timer); lines.off('line', onLine); start.off('exit', onExit); };
    lines.on('line', onLine);
    start.once('exit', onExit);
  });
}


async function freePort() {
  for (let p = 18080; p < 18180; p++) if (await portFree(p)) return p;
  throw new Error('no free port in 18080-18179');
}

async function check(name, fn) {
  const c0 = Date.now();
  try {
    await fn();
    passed++;
    log(`ok   ${name} (${secs(Date.now() - c0)})`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    if (e instanceof Error) counted.add(e);
    throw e;
  }
}

/** The lab node's ssh (the lab's key and pinned known_hosts). */
/** The pid of a lab node's dockerd from its pidfile, checked to be a dockerd in that node's namespace. */
function labDockerdPid(node) {
  const pid = Number(fs.readFileSync(path.join(LAB, 'nodes', node, 'run', 'dockerd.pid'), 'utf8').trim().split(/\s+/)[0]);
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  const ns = fs.statSync(`/proc/${pid}/ns/net`).ino;
  if (comm !== 'dockerd' || ns !== fs.statSync(path.join('/run/netns', node)).ino) throw new Error(`pid ${pid} is not ${node}'s dockerd`);
  return pid;
}

/** The record of one step in a parsed progress file (whatever nesting the file uses), or undefined. */
function findRecord(value, id) {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, id)) return value[id];
  for (const v of Object.values(value)) {
    const r = findRecord(v, id);
    if (r !== undefined) return r;
  }
  return undefined;
}

function sshLab(host, script) {
  return execFileSync('ssh', ['-F', '/dev/null', '-i', path.join(LAB, 'ssh', 'id_ed25519'), '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${path.join(LAB, 'ssh', 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10', `root@${host}`, script], { encoding: 'utf8', timeout: 60_000 });
}

async function stopAll() {
  await browser?.close().catch(() => {});
  if (start && start.exitCode === null && start.signalCode === null) {
    const exited = new Promise((r) => start.once('exit', r));
    try { process.kill(-start.pid, 'SIGINT'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-start.pid, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
    await exited;
    clearTimeout(t);
  }
  // npm start stops its code-server on SIGINT; make sure of it (its own process group)
  if (codeServerGroup) { try { process.kill(-codeServerGroup, 'SIGKILL'); } catch { /* already gone */ } }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    void stopAll().finally(() => { if (!keepTmp) fs.rmSync(tmp, { recursive: true, force: true }); process.exit(130); });
  });
}

let node1Host;
try {
  if (process.getuid?.() !== 0) throw new Error('needs root (npm start brings the local lab up)');
  const nodes = JSON.parse(fs.readFileSync(path.join(LAB, 'nodes.json'), 'utf8')).nodes;
  node1Host = nodes[0]?.host;
  if (nodes.length < 2 || !/^10\.99\.0\.\d+$/.test(node1Host ?? '')) throw new Error(`${LAB}/nodes.json: not the local lab's two nodes`);
  env.PORT = String(await freePort());
  log(`npm start (${nodeBin ? `PATH=${nodeBin}:…` : 'system node'} ${execFileSync('node', ['-v'], { env, encoding: 'utf8' }).trim()}; HOME, XDG dirs, tools cache empty under ${tmp}; PORT ${env.PORT})`);
  start = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const startLog = fs.createWriteStream(path.join(tmp, 'npm-start.log'));
  let buf = '';
  const onData = (chunk) => {
    startLog.write(chunk);
    buf += chunk.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const l of parts) { console.log(`  | ${l}`); lines.emit('line', l); }
  };
  start.stdout.on('data', onData);
  start.stderr.on('data', onData);

  let url;
  await check('npm start installs the tools from nothing and prints the URL', async () => {
    const installed = waitForLine(/code-server: installed .* in ([\d.]+)s/, START_TIMEOUT_MS);
    const ready = waitForLine(/tools ready in ([\d.]+)s/, START_TIMEOUT_MS);
    const group = waitForLine(/process group (\d+)/, START_TIMEOUT_MS);
    for (const p of [installed, ready, group]) p.catch(() => {}); // awaited below; the URL's failure is the one reported
    const m = await waitForLine(/^VS Code with Docker Network Lab: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/, START_TIMEOUT_MS);
    url = m[1];
    timings.toUrl = Date.now() - t0;
    timings.codeServerInstall = Number((await installed)[1]) * 1000;
    timings.toolsCold = Number((await ready)[1]) * 1000;
    codeServerGroup = Number((await group)[1]);
  });

  const { chromium } = await import('playwright-core');
  browser = await chromium.launchPersistentContext(dir('chromium-profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: { ...env, XDG_CONFIG_HOME: dir('chromium-xdg/config'), XDG_CACHE_HOME: dir('chromium-xdg/cache') },
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const openedAt = Date.now();
  await page.goto(url);
  const sidebar = page.locator('.part.sidebar');

  await check('a fresh browser profile opens the folder trusted: no trust prompt, no Restricted Mode', async () => {
    await page.locator('.part.statusbar').waitFor();
    await page.locator('.part.activitybar [aria-label^="Docker Network Lab"]').first().waitFor();
    await page.waitForTimeout(2000); // the startup trust dialog would be up by now
    const dialog = await page.locator('.monaco-dialog-box').allInnerTexts();
    if (dialog.some((d) => /trust/i.test(d))) throw new Error(`trust dialog: ${dialog.join(' | ').slice(0, 200)}`);
    const restricted = await page.locator('.part.statusbar', { hasText: /Restricted Mode/ }).count();
    if (restricted > 0) throw new Error('the status bar shows Restricted Mode');
  });

  await check('the Lab Nodes view shows both lab nodes connected', async () => {
    const title = sidebar.locator('.composite.title', { hasText: /Docker Network Lab/i });
    if (!(await title.isVisible().catch(() => false))) await page.locator('.part.activitybar [aria-label^="Docker Network Lab"]').first().click();
    const pane = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: /Lab Nodes/i }) }).first();
    const header = pane.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const online = (name) => pane.locator('.monaco-list-row', { hasText: name }).filter({ hasText: /Docker \d/ })
      .filter({ hasNotText: /connecting|offline|error|disconnected/ });
    await online(nodes[0].name).first().waitFor();
    await online(nodes[1].name).first().waitFor();
    timings.toConnected = Date.now() - t0;
    timings.pageToConnected = Date.now() - openedAt;
  });

  await check(`"Run this step" of ${STEP} in the walkthrough runs and the step is verified`, async () => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('>Docker Network Lab: Open the Guided Lab Walkthrough');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open the Guided Lab Walkthrough' }).first().waitFor();
    await page.keyboard.press('Enter');
    const card = page.locator(`.getting-started-step[data-step-id$="#${STEP}"]`);
    await card.waitFor();
    if ((await card.getAttribute('aria-expanded')) !== 'true') await card.click();
    const run0 = Date.now();
    await card.locator('a.monaco-button', { hasText: 'Run this step' }).click();
    // a destructive step would ask first; this one does not, but answer if asked
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Run Step' });
    await confirm.click({ timeout: 3000 }).catch(() => {});
    await page.locator(`.getting-started-step[data-step-id$="#${STEP}"][aria-checked="true"]`).waitFor();
    // a tick left from an earlier run would show at once: the record must be this run's
    for (const end = Date.now() + 10_000; ;) {
      const at = Date.parse(findRecord(JSON.parse(fs.readFileSync(path.join(LAB, 'progress.json'), 'utf8')), STEP)?.at ?? '');
      if (at >= run0 - 1000) break;
      if (Date.now() > end) throw new Error(`${STEP} is ticked but progress.json has no record of this run (last: ${Number.isNaN(at) ? 'none' : new Date(at).toISOString()})`);
      await page.waitForTimeout(200);
    }
    timings.stepRun = Date.now() - run0;
    await page.mouse.move(5, 890);
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'fresh-start.png') });
    log('  screenshot artifacts/fresh-start.png');
  });

  await check(`Cancel in the progress notification of a hanging ${CANCEL_STEP} stops it; ${STEP} keeps its tick and its record`, async () => {
    // node1's dockerd is paused (SIGSTOP, by its pidfile, checked to be the lab's) so the step's docker
    // command hangs until the learner cancels; it is resumed in every case below
    const dockerd = labDockerdPid('docker-node1');
    const progressFile = path.join(LAB, 'progress.json');
    const before = JSON.parse(fs.readFileSync(progressFile, 'utf8'));
    const card = page.locator(`.getting-started-step[data-step-id$="#${CANCEL_STEP}"]`);
    await card.click();
    const tickedBefore = await card.getAttribute('aria-checked');
    process.kill(dockerd, 'SIGSTOP');
    try {
      await card.locator('a.monaco-button', { hasText: 'Run this step' }).click();
      const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Run Step' });
      await confirm.click({ timeout: 3000 }).catch(() => {});
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /Running "/ }).first();
      await toast.waitFor();
      await page.waitForTimeout(1500); // the step is inside its first docker command by now
      await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
      // VS Code hides the notification at once; the step itself must stop while dockerd is still paused:
      // its transcript in the Output panel ends with the cancellation line
      await page.locator('.part.panel .view-lines', { hasText: '— cancelled —' }).first().waitFor({ timeout: 15_000 })
        .catch(() => { throw new Error(`${CANCEL_STEP} did not stop when Cancel was clicked (no "— cancelled —" in its output)`); });
    } finally {
      process.kill(dockerd, 'SIGCONT');
    }
    await page.waitForTimeout(5000); // a run that went on would record its result by now
    const tickedAfter = await card.getAttribute('aria-checked');
    if (tickedAfter !== tickedBefore) throw new Error(`${CANCEL_STEP}: its tick went from ${tickedBefore} to ${tickedAfter} when its run was cancelled`);
    await page.locator(`.getting-started-step[data-step-id$="#${STEP}"][aria-checked="true"]`).waitFor({ timeout: 5000 })
      .catch(() => { throw new Error(`${STEP} lost its tick when ${CANCEL_STEP} was cancelled`); });
    // the cancelled run leaves both records exactly as they were (the file also still parses)
    const after = JSON.parse(fs.readFileSync(progressFile, 'utf8'));
    for (const id of [STEP, CANCEL_STEP]) {
      const was = JSON.stringify(findRecord(before, id) ?? null);
      const is = JSON.stringify(findRecord(after, id) ?? null);
      if (was !== is) throw new Error(`progress.json: the record of ${id} changed from ${was} to ${is}`);
    }
    if (findRecord(after, STEP) === undefined) throw new Error(`progress.json has no record of ${STEP}`);
    log(`  cancelled ${CANCEL_STEP}; ${STEP} still ticked and recorded`);
  });
} catch (e) {
  if (!(e instanceof Error && counted.has(e))) {
    failed++;
    log(`ERROR ${e instanceof Error ? e.message : String(e)}`);
  }
  await browser?.pages()[0]?.screenshot({ path: path.join(artifacts, 'fresh-start-failed.png') }).catch(() => {});
} finally {
  await stopAll();
  if (node1Host) {
    try { sshLab(node1Host, 'docker rm -f web >/dev/null 2>&1; true'); log(`removed the step's container web on ${node1Host}`); } catch (e) {
      failed++;
      log(`cleanup on ${node1Host} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed === 0 && !keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp} (npm-start.log; tools cache, user data)`);
}
const t = (k) => (timings[k] === undefined ? 'n/a' : secs(timings[k]));
log(`timings: tools cold ${t('toolsCold')} (code-server ${t('codeServerInstall')}), npm start -> URL ${t('toUrl')}, -> both nodes connected ${t('toConnected')} (page open -> connected ${t('pageToConnected')}), Run this step -> verified ${t('stepRun')}`);
console.log(`fresh: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
