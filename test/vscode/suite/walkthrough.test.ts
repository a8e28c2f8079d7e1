// The guided lab inside a real VS Code: the walkthrough contribution lists every lab step with its
// page and completion key; the Lab Steps tree shows every chapter and step; running a step through
// the walkthrough's own command (`dockerNetLab.step.run` with the step id) against the local lab ends
// with the step verified and its context key set.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { stepContextKey } from '../../../src/core/lab/labDefinition';
import { loadLab } from '../../../src/core/lab/loadLab';
import { labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { StepsTestApi } from '../../../src/vscode/steps/registerSteps';
import type { StepsNode } from '../../../src/vscode/steps/stepsTreeProvider';
import { stepOutputScheme } from '../../../src/vscode/steps/stepTranscripts';
import { sleep } from '../polling';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';

interface WalkthroughContribution {
  id: string;
  title: string;
  steps: { id: string; title: string; description: string; media: { markdown?: string }; completionEvents?: string[] }[];
}

async function api(): Promise<{ api: StepsTestApi; root: string; packageJSON: { contributes: { walkthroughs?: WalkthroughContribution[] } } }> {
  const ext = vscode.extensions.getExtension<StepsTestApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = await ext.activate();
  assert.ok(exports?.stepsTree !== undefined, 'activate() returned no stepsTree');
  return { api: exports, root: ext.extensionPath, packageJSON: ext.packageJSON as { contributes: { walkthroughs?: WalkthroughContribution[] } } };
}

function label(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

suite('guided lab walkthrough', () => {
  test('the walkthrough contribution has every lab step, with its page and its completion key', async () => {
    const { root, packageJSON } = await api();
    const lab = loadLab(path.join(root, 'labs', 'docker-networking'));
    const ids = lab.chapters.flatMap((c) => c.steps.map((s) => s.id));
    const w = packageJSON.contributes.walkthroughs?.find((x) => x.id === 'dockerNetLab.tutorial');
    assert.ok(w, 'no dockerNetLab.tutorial walkthrough');
    assert.deepEqual(w.steps.map((s) => s.id), ids);
    for (const s of w.steps) {
      assert.deepEqual(s.completionEvents, [`onContext:${stepContextKey(s.id)}`]);
      assert.ok(s.media.markdown && fs.existsSync(path.join(root, s.media.markdown)), `${s.id}: page ${s.media.markdown ?? '(none)'} missing`);
      // the package's NLS placeholders are resolved by VS Code for the running extension
      assert.doesNotMatch(s.title, /^%.*%$/, `${s.id}: the title placeholder was not resolved (package.nls.json missing?)`);
      assert.ok(s.description.includes(`command:dockerNetLab.step.run?${encodeURIComponent(JSON.stringify([s.id]))}`), `${s.id}: no run button`);
    }
  });

  test('the workbench has the walkthrough commands the steps feature uses to untick a step', async () => {
    await api();
    const all = new Set(await vscode.commands.getCommands(false));
    for (const id of ['welcome.markStepComplete', 'welcome.markStepIncomplete', 'workbench.action.openWalkthrough']) {
      assert.ok(all.has(id), `${id} is not registered in this VS Code`);
    }
  });

  test('the Lab Steps tree shows every chapter, and every step under its chapter', async () => {
    const { api: t, root } = await api();
    const lab = loadLab(path.join(root, 'labs', 'docker-networking'));
    const chapters = t.stepsTree.getChildren();
    assert.deepEqual(chapters.map((c) => (c.kind === 'chapter' ? c.chapter.id : `(${c.kind})`)), lab.chapters.map((c) => c.id));
    for (const c of chapters) {
      const item = t.stepsTree.getTreeItem(c);
      assert.match(label(item), /^\d+\. /);
      assert.match(String(item.description), /^\d+\/\d+$/);
      const steps: StepsNode[] = t.stepsTree.getChildren(c);
      const want = lab.chapters.find((x) => c.kind === 'chapter' && x.id === c.chapter.id)?.steps.map((s) => s.id);
      assert.deepEqual(steps.map((s) => (s.kind === 'step' ? s.step.id : '')), want);
      for (const s of steps) {
        const si = t.stepsTree.getTreeItem(s);
        assert.match(String(si.contextValue), /^step\./);
        assert.ok(si.iconPath instanceof vscode.ThemeIcon);
      }
    }
  });

  test('Show Step Output opens the step\'s read-only output document', async () => {
    await api();
    await vscode.commands.executeCommand('dockerNetLab.step.showOutput', 'ch1-run-web');
    const doc = vscode.window.activeTextEditor?.document;
    assert.equal(doc?.uri.scheme, stepOutputScheme);
    assert.match(doc.getText(), /ch1-run-web/, doc.getText().slice(0, 500));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the walkthrough opens', async () => {
    await api();
    await vscode.commands.executeCommand('dockerNetLab.lab.openWalkthrough');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('running a step from its walkthrough button verifies it on the nodes and sets its context key', async function () {
    this.timeout(240_000);
    if (!fs.existsSync(labNodesFile())) {
      console.log(`  skipped: the local lab is not running (no ${labNodesFile()}); start it with: node bin/docker-net-lab.js lab up`);
      this.skip();
    }
    const { api: t, root } = await api();
    const lab = loadLab(path.join(root, 'labs', 'docker-networking'));
    const all = lab.chapters.flatMap((c) => c.steps);
    // ch4-hostnames only reads; ch1-run-web (re)creates the `web` container on node1
    const step = all.find((s) => s.id === 'ch4-hostnames' && !s.destructive && s.prerequisites.length === 0) ?? all.find((s) => s.id === 'ch1-run-web');
    assert.ok(step, 'neither ch4-hostnames nor ch1-run-web is in the lab');
    const state = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', step.id);
    const record = t.stepsController.states.record(step.id);
    assert.equal(state, 'verified', `step ${step.id} ended ${String(state)}: ${record?.message ?? ''}`);
    assert.equal(t.getStepState(step.id), 'verified');
    assert.equal(t.stepsController.contextKeyValues.get(stepContextKey(step.id)), true);
    const out = t.getStepOutput(step.id) ?? '';
    assert.match(out, /\[docker-node1\] \$ docker /, `the output echoes each command with its node:\n${out.slice(-1500)}`);
    const chapter = t.stepsTree.getChildren().find((c) => c.kind === 'chapter' && c.chapter.steps.some((s) => s.id === step.id));
    assert.ok(chapter);
    const row = t.stepsTree.getChildren(chapter).find((s) => s.kind === 'step' && s.step.id === step.id);
    assert.ok(row);
    assert.equal(t.stepsTree.getTreeItem(row).contextValue, 'step.verified');
  });

  test('a step that fails as the tutorial expects counts as done: its own state and icon, context key set', async function () {
    this.timeout(240_000);
    if (!fs.existsSync(labNodesFile())) {
      console.log(`  skipped: the local lab is not running (no ${labNodesFile()})`);
      this.skip();
    }
    const { api: t } = await api();
    const id = 'ch1-curl-host-fails';
    if (t.getStepState('ch1-run-web') !== 'verified') {
      assert.equal(await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', 'ch1-run-web'), 'verified');
    }
    const state = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', id);
    assert.equal(state, 'expectedFailure', t.stepsController.states.record(id)?.message ?? '');
    assert.equal(t.stepsController.contextKeyValues.get(stepContextKey(id)), true);
    assert.match(t.stepsController.states.record(id)?.message ?? '', /port 80/, 'the explanation of the expected failure is kept');
    const chapter = t.stepsTree.getChildren().find((c) => c.kind === 'chapter' && c.chapter.id === 'ch1-port-mapping');
    const row = chapter && t.stepsTree.getChildren(chapter).find((s) => s.kind === 'step' && s.step.id === id);
    assert.ok(row);
    const item = t.stepsTree.getTreeItem(row);
    assert.equal(item.contextValue, 'step.expectedFailure.expectFailure');
    assert.match(String(item.description), /failed as expected/);
    const out = t.getStepOutput(id) ?? '';
    assert.match(out, /\[docker-node1\] \$ curl -sS -m 5 http:\/\/127\.0\.0\.1\//, out.slice(-1500));
    // the output document follows the transcript (change events are coalesced for 100 ms)
    await sleep(300);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: stepOutputScheme, path: `/${id}.log` }));
    assert.equal(doc.getText(), out);
  });
});
