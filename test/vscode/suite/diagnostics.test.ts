// Runs inside the real extension host: the linter's diagnostics, quick fix, Explain, the Diagnose
// Output command and Apply fix (default runner: clipboard).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { waitFor } from '../polling';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';

async function activate(): Promise<void> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  await ext.activate();
}

suite('diagnostics', () => {
  suiteSetup(activate);

  test('lints -net in a shell document and the quick fix turns it into --net', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'shellscript', content: 'docker run -d --name redis -net my-overlay redis\n' });
    await vscode.window.showTextDocument(doc);
    const diag = await waitFor('the -net diagnostic', () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'lint-single-dash-long-flag'));
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(doc.getText(diag.range), '-net');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diag.range);
    const fix = actions.find((a) => a.edit !== undefined && a.title.includes('--net'));
    assert.ok(fix?.edit, `no quick fix among ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(actions.some((a) => a.command?.command === 'dockerNetLab.diagnostics.explain'), 'no Explain action');
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.getText(), 'docker run -d --name redis --net my-overlay redis\n');
    await waitFor('the diagnostic to go away', () => (vscode.languages.getDiagnostics(doc.uri).some((d) => d.code === 'lint-single-dash-long-flag') ? undefined : true));
  });

  test('hover over a lint finding shows its message', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'shellscript', content: 'etcdctl cluster-health\n' });
    await vscode.window.showTextDocument(doc);
    await waitFor('the etcdctl diagnostic', () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'lint-etcdctl-v2-command'));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 3));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /v2 command/);
  });

  test('Diagnose Output publishes runtime findings; Explain opens a document; Apply fix copies the commands', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: '$ etcdctl cluster-health\nError: unknown command "cluster-health" for "etcdctl"\nRun \'etcdctl --help\' for usage.\n' });
    await vscode.window.showTextDocument(doc);
    const findings = await vscode.commands.executeCommand<{ ruleId: string }[]>('dockerNetLab.diagnostics.diagnoseText');
    assert.deepEqual(findings.map((f) => f.ruleId), ['etcdctl-v3-unknown-command-cluster-health']);
    const diag = await waitFor('the runtime diagnostic', () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'etcdctl-v3-unknown-command-cluster-health'));
    assert.equal(diag.range.start.line, 1);
    assert.equal(diag.range.end.line, 2, 'the continuation line belongs to the finding');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diag.range);
    const apply = actions.find((a) => a.command?.command === 'dockerNetLab.diagnostics.applyFix');
    const explain = actions.find((a) => a.command?.command === 'dockerNetLab.diagnostics.explain');
    assert.ok(apply?.command && explain?.command);
    const uri = await vscode.commands.executeCommand<string>(explain.command.command, ...((explain.command.arguments ?? []) as unknown[]));
    const explained = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
    assert.match(explained.getText(), /^# etcdctl speaks the v3 API/);
    assert.match(explained.getText(), /endpoint health/);
    await vscode.env.clipboard.writeText('');
    const result = await vscode.commands.executeCommand<{ outcome: string }>(apply.command.command, ...((apply.command.arguments ?? []) as unknown[]));
    assert.equal(result.outcome, 'copied');
    assert.match(await vscode.env.clipboard.readText(), /etcdctl --endpoints=.* endpoint health/);
  });
});

suite('diagnostics of log documents', () => {
  suiteSetup(activate);

  test('an open log document shows its known errors as Problems without any command', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'log',
      content: 'Nov 25 18:00:00 docker-node2 dockerd[7229]: level=info msg="Loading containers: done."\nNov 25 18:00:01 docker-node2 dockerd[7229]: level=error msg="Failed to deserialize netlink ndmsg: invalid argument"\n',
    });
    await vscode.window.showTextDocument(doc);
    const diag = await waitFor('the ndmsg finding', () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'overlay-netlink-ndmsg-deserialize'));
    assert.equal(diag.range.start.line, 1);
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
  });
});
