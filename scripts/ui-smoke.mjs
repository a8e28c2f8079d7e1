// UI smoke test in a real VS Code for the web: packages the extension (npm run package), installs
// the .vsix into a fresh code-server, opens the workbench in headless Debian chromium and runs the
// CHECKS below in order. Screenshots go to artifacts/ (git-ignored).
// Closing line: "ui: N passed, N failed".
//
// usage: node scripts/ui-smoke.mjs [--grep=REGEX] [--no-build | --no-package] [--keepTmp] [--verbose]
//   --no-build     package the current build (the vsce part of the package script, no npm run build)
//   --no-package   reuse dist/docker-network-lab.vsix (must exist)
//
// Adding a check: append { name, run: async (ctx) => { ... } } to CHECKS. ctx has page, helpers
// (runCommand, openContainer, shot) and state shared between checks. Throw to fail.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools, toolPaths, toolsReady } from './ensureTools.mjs';
import { installVsix, packageExtension, workbenchSession, writeUserSettings } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'artifacts');
const vsixPath = path.join(root, 'dist', 'docker-network-lab.vsix');
const CONTAINER_TITLE = 'Docker Network Lab';

/** The checks, run in order against one workbench. */
const CHECKS = [
  {
    name: 'the workbench loads with the Docker Network Lab activity-bar entry',
    async run({ page }) {
      await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
      await page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
      // contributions appear once the remote extension host has scanned the installed extension
      await activityEntry(page).waitFor({ timeout: 60_000 });
    },
  },
  {
    name: 'the palette runs "Docker Network Lab: Show Lab Status" and it answers',
    async run({ page, runCommand }) {
      await runCommand('Docker Network Lab: Show Lab Status');
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /lab/i }).first();
      await toast.waitFor({ timeout: 30_000 });
      log(`  notification: ${(await toast.innerText()).split('\n')[0]}`);
    },
  },
  {
    name: 'the Lab Nodes view renders (welcome content or node rows)',
    async run({ page, openContainer, shot }) {
      await openContainer();
      const sidebar = page.locator('.part.sidebar');
      await sidebar.locator('.composite.title', { hasText: new RegExp(CONTAINER_TITLE, 'i') }).waitFor({ timeout: 30_000 });
      // with several views the Lab Nodes pane has its own header; with one view the container is the pane
      const headed = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: /Lab Nodes/i }) });
      const pane = (await headed.count()) > 0 ? headed.first() : sidebar;
      if ((await headed.count()) > 0) {
        const header = headed.first().locator('.pane-header');
        if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      }
      // the pane may first render an empty welcome container and fill in its rows a moment later
      let welcome = [];
      let rows = [];
      for (const end = Date.now() + 30_000; ;) {
        welcome = await pane.locator('.welcome-view-content').allInnerTexts();
        rows = await pane.locator('.monaco-list-row').allInnerTexts();
        if (welcome.join('').trim() !== '' || rows.length > 0) break;
        if (Date.now() > end) throw new Error('Lab Nodes view is still empty after 30 s');
        await page.waitForTimeout(100);
      }
      log(`  view: ${rows.length ? `rows ${JSON.stringify(rows.slice(0, 6))}` : `welcome "${welcome.join(' ').replace(/\s+/g, ' ').slice(0, 100)}"`}`);
      await page.mouse.move(5, 890); // no hover highlight in the picture
      await shot('ui-smoke-sidebar.png', sidebar);
    },
  },
  {
    // walkthrough: `workbench.action.openWalkthrough` with docker-network-lab.docker-network-lab#dockerNetLab.tutorial
    name: 'the guided-lab walkthrough opens with its steps and the first step\'s page',
    async run({ page, runCommand, shot }) {
      await runCommand('Docker Network Lab: Open the Guided Lab Walkthrough');
      const editor = page.locator('.gettingStartedContainer').first();
      await editor.locator('.getting-started-category, .gettingStartedSlideDetails').first().waitFor({ timeout: 30_000 });
      await editor.getByText(/Docker Networking: from port mapping to overlay networks/).first().waitFor({ timeout: 30_000 });
      const steps = await editor.locator('.getting-started-step').allInnerTexts();
      if (steps.length < 20) throw new Error(`the walkthrough lists ${steps.length} steps`);
      log(`  walkthrough: ${steps.length} steps, first "${steps[0]?.split('\n')[0] ?? ''}"`);
      // the step's markdown page renders in a webview next to the list
      await editor.locator('iframe').first().waitFor({ state: 'attached', timeout: 20_000 });
      await page.waitForTimeout(3000);
      await page.mouse.move(5, 890);
      await shot('ui-smoke-walkthrough.png');
    },
  },
  {
    name: 'the Lab Steps view lists the chapters with their steps',
    async run({ page, openContainer, shot }) {
      await openContainer();
      const sidebar = page.locator('.part.sidebar');
      const pane = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: /Lab Steps/i }) }).first();
      const header = pane.locator('.pane-header');
      await header.waitFor({ timeout: 30_000 });
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      await pane.locator('.monaco-list-row', { hasText: /^1\. / }).first().waitFor({ timeout: 30_000 });
      const rows = await pane.locator('.monaco-list-row').allInnerTexts();
      log(`  steps view: ${JSON.stringify(rows.slice(0, 4))}`);
      await page.mouse.move(5, 890);
      await shot('ui-smoke-steps.png', sidebar);
    },
  },
];

const t0 = Date.now();
function log(...a) {
  console.log(`[ui ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
}

function activityEntry(page) {
  return page.locator(`.part.activitybar .action-item a[aria-label^="${CONTAINER_TITLE}"], .part.activitybar [aria-label^="${CONTAINER_TITLE}"]`).first();
}

function parseOpts(argv) {
  const o = {};
  for (const a of argv) {
    const m = a.match(/^--([^=]+)(?:=(.*))?$/);
    if (m) o[m[1]] = m[2] ?? true;
  }
  return o;
}

const opts = parseOpts(process.argv.slice(2));
const verbose = Boolean(opts.verbose) || process.env.DOCKER_NET_LAB_VERBOSE === '1';
const selected = CHECKS.filter((c) => typeof opts.grep !== 'string' || new RegExp(opts.grep, 'i').test(c.name));

let passed = 0;
let failed = 0;
const session = workbenchSession('dnl-ui-smoke-', { keepTmp: Boolean(opts.keepTmp) });
const { tmp, dirs } = session;

try {
  let tools = toolPaths();
  if (!toolsReady(tools)) tools = ensureTools({ apt: false, log });
  if (!opts['no-package']) {
    log(opts['no-build'] ? 'packaging the current build (vsce)' : 'npm run package');
    packageExtension(root, { build: !opts['no-build'] });
  }
  if (!fs.existsSync(vsixPath)) throw new Error(`${path.relative(root, vsixPath)} not found`);
  fs.mkdirSync(artifacts, { recursive: true });

  const workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(workspace);
  writeUserSettings(dirs.userDataDir, {
    'security.workspace.trust.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
  });
  log(`install ${path.relative(root, vsixPath)}: ${installVsix(tools, dirs, vsixPath).split('\n').pop()}`);
  const server = await session.startServer({
    tools, extraArgs: ['--disable-workspace-trust', '--disable-getting-started-override'],
    logFile: path.join(tmp, 'code-server.log'), onLine: verbose ? (l) => console.log(`[code-server] ${l}`) : undefined,
  });
  log(`code-server on 127.0.0.1:${server.port}`);
  const page = await session.openPage(tools, { onPageError: (e) => { if (verbose) log('page error:', e.message); } });
  await page.goto(server.url(workspace));

  const ctx = {
    page,
    state: {},
    /** Runs a command by its palette label; reopens the palette until the (activating) extension lists it. */
    async runCommand(label) {
      const input = page.locator('.quick-input-widget input');
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('Escape');
        await page.locator('.monaco-workbench .part.editor').click({ position: { x: 200, y: 200 } }).catch(() => {});
        await page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        await input.fill(`>${label}`);
        try {
          await row.waitFor({ timeout: 5000 });
          break;
        } catch (e) {
          if (attempt >= 6) throw new Error(`"${label}" not in the command palette after ${attempt} tries`, { cause: e });
          await page.waitForTimeout(1000);
        }
      }
      await page.keyboard.press('Enter');
    },
    /** Shows the Docker Network Lab container in the side bar (clicking its entry only when not shown). */
    async openContainer() {
      const entry = activityEntry(page);
      await entry.waitFor({ timeout: 30_000 });
      const title = page.locator('.part.sidebar .composite.title', { hasText: new RegExp(CONTAINER_TITLE, 'i') });
      if (!(await title.isVisible().catch(() => false))) await entry.click();
    },
    /** Screenshot of the page or of one locator into artifacts/<file>. */
    async shot(file, locator) {
      const out = path.join(artifacts, file);
      await (locator ?? page).screenshot({ path: out });
      log(`  screenshot ${path.relative(root, out)}`);
    },
  };

  for (const check of selected) {
    const c0 = Date.now();
    try {
      await check.run(ctx);
      passed++;
      log(`ok   ${check.name} (${((Date.now() - c0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed++;
      log(`FAIL ${check.name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
      const safe = check.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40).toLowerCase();
      await ctx.shot(`ui-smoke-failed-${safe}.png`).catch(() => {});
    }
  }
} catch (e) {
  failed++;
  log(`ERROR ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await session.stop();
  if (failed === 0 && !opts.keepTmp) session.removeTmp();
  else log(`kept ${tmp} (code-server.log)`);
}
console.log(`ui: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
