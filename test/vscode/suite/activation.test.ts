// Runs inside the real extension host: the extension activates, and package.json (read at run time,
// so new commands/steps are covered automatically) agrees with what the extension registers and ships.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
const OWN_PREFIX = 'dockerNetLab.';

interface MenuItem { command?: string; submenu?: string }
interface WalkthroughStep {
  id: string;
  description?: string;
  media?: { markdown?: string; svg?: string; image?: string | Record<string, string> };
  completionEvents?: string[];
}
interface Manifest {
  contributes?: {
    commands?: { command: string; title: string }[];
    views?: Record<string, { id: string }[]>;
    viewsWelcome?: { view: string; contents: string }[];
    menus?: Record<string, MenuItem[]>;
    walkthroughs?: { id: string; steps?: WalkthroughStep[] }[];
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  return ext;
}

function readManifest(): Manifest {
  return JSON.parse(fs.readFileSync(path.join(extension().extensionPath, 'package.json'), 'utf8')) as Manifest;
}

/** Command ids in `command:<id>` links of markdown-ish text (welcome content, step descriptions). */
function commandLinks(text: string): string[] {
  return [...text.matchAll(/command:([A-Za-z0-9_.-]+)/g)].map((m) => m[1]!);
}

/** Command ids VS Code itself registers for a contributed view (focus, resetViewLocation, …). */
function isViewCommand(id: string, viewIds: string[]): boolean {
  return viewIds.some((v) => id.startsWith(`${v}.`));
}

suite('activation and manifest drift', () => {
  let registered: Set<string>;
  let manifest: Manifest;
  let contributed: Set<string>;

  suiteSetup(async () => {
    await extension().activate();
    registered = new Set(await vscode.commands.getCommands(true));
    manifest = readManifest();
    contributed = new Set((manifest.contributes?.commands ?? []).map((c) => c.command));
  });

  /** A reference to one of our commands must be contributed; any other command must at least exist. */
  function assertKnownCommand(id: string, where: string): void {
    if (id.startsWith(OWN_PREFIX)) {
      assert.ok(contributed.has(id), `${where} references ${id}, which contributes.commands does not list`);
    } else {
      assert.ok(registered.has(id), `${where} references ${id}, which no extension registers`);
    }
  }

  test('the extension activates', () => {
    const ext = extension();
    assert.equal(ext.isActive, true);
    assert.equal(ext.packageJSON && (ext.packageJSON as { name?: string }).name, 'docker-network-lab');
  });

  test('the workspace is trusted (remote commands are refused otherwise)', () => {
    assert.equal(vscode.workspace.isTrusted, true);
  });

  test('every contributed command is registered after activation', () => {
    assert.ok(contributed.size > 0, 'package.json contributes no commands');
    const missing = [...contributed].filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('every registered dockerNetLab.* command is contributed', () => {
    const viewIds = Object.values(manifest.contributes?.views ?? {}).flat().map((v) => v.id);
    const extra = [...registered]
      .filter((id) => id.startsWith(OWN_PREFIX) && !contributed.has(id) && !isViewCommand(id, viewIds));
    assert.deepEqual(extra, [], `registered but not in contributes.commands: ${extra.join(', ')}`);
  });

  test('viewsWelcome links point at known commands', () => {
    for (const w of manifest.contributes?.viewsWelcome ?? []) {
      for (const id of commandLinks(w.contents)) assertKnownCommand(id, `viewsWelcome of ${w.view}`);
    }
  });

  test('menu entries point at contributed commands', () => {
    for (const [menu, items] of Object.entries(manifest.contributes?.menus ?? {})) {
      for (const item of items) {
        if (item.command) assertKnownCommand(item.command, `menu ${menu}`);
      }
    }
  });

  test('walkthrough steps: media files exist, links and completion commands are known', () => {
    const walkthroughs = manifest.contributes?.walkthroughs ?? [];
    assert.ok(walkthroughs.length > 0, 'package.json contributes no walkthrough');
    const root = extension().extensionPath;
    for (const w of walkthroughs) {
      for (const step of w.steps ?? []) {
        const where = `walkthrough ${w.id} step ${step.id}`;
        const media = step.media ?? {};
        const files = [media.markdown, media.svg,
          ...(typeof media.image === 'string' ? [media.image] : Object.values(media.image ?? {}))];
        for (const f of files) {
          if (f) assert.ok(fs.existsSync(path.join(root, f)), `${where}: media file ${f} is missing`);
        }
        for (const id of commandLinks(step.description ?? '')) assertKnownCommand(id, where);
        for (const ev of step.completionEvents ?? []) {
          if (ev.startsWith('onCommand:')) assertKnownCommand(ev.slice('onCommand:'.length), `${where} completionEvents`);
        }
      }
    }
  });
});
