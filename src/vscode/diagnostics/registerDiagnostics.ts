import * as vscode from 'vscode';
import type { Finding } from '../../core/diagnostics/ruleTypes';
import { LabError } from '../../core/errors';
import { displayText } from '../../core/util/displayText';
import { registerCommand } from '../commands/registry';
import { DiagnosticsCodeActions, DiagnosticsHover, resolveRef } from './codeActions';
import { diagnosticsCommandIds } from './diagnosticsCommandIds';
import { DiagnosticStore } from './diagnosticStore';
import { ExplainDocuments, explainScheme } from './explainDocument';
import { fixCommandLines, getFixRunner } from './fixRunner';
import { LintController } from './lintController';
import { RuntimeController, setActiveRuntimeController } from './runtimeController';

/** Registers the diagnostics part of the extension: linter diagnostics, hovers, code actions and commands. */
export function registerDiagnostics(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  const store = new DiagnosticStore();
  const explain = new ExplainDocuments();
  const runtime = new RuntimeController(store);
  setActiveRuntimeController(runtime);
  context.subscriptions.push(store, explain, new LintController(store), runtime, { dispose: () => setActiveRuntimeController(undefined) });
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(explainScheme, explain));
  const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-userdata' }];
  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(selector, new DiagnosticsCodeActions(store), { providedCodeActionKinds: DiagnosticsCodeActions.kinds }),
    vscode.languages.registerHoverProvider(selector, new DiagnosticsHover(store)),
  );

  registerCommand(context, log, diagnosticsCommandIds.diagnosticsDiagnoseText, (): Finding[] => {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      void vscode.window.showInformationMessage('Open the output or log to diagnose in an editor first.');
      return [];
    }
    const sel = editor.selection;
    const range = sel.isEmpty ? undefined : new vscode.Range(sel.start.line, 0, sel.end.line, editor.document.lineAt(sel.end.line).text.length);
    const findings = runtime.diagnose(editor.document, range);
    log.info(`diagnose: ${findings.length} finding(s) in ${editor.document.uri.toString()}`);
    if (findings.length === 0) {
      void vscode.window.showInformationMessage('No known Docker or etcd problem found in this text.');
    } else {
      void vscode.window.showInformationMessage(`${findings.length} known problem(s) found; see the Problems panel.`, 'Show Problems').then((c) => {
        if (c === 'Show Problems') { void vscode.commands.executeCommand('workbench.actions.view.problems'); }
      });
    }
    return findings;
  });

  registerCommand(context, log, diagnosticsCommandIds.diagnosticsExplain, async (ref: unknown) => {
    const s = resolveRef(store, ref);
    if (s === undefined) { void vscode.window.showInformationMessage('That finding is gone (the document changed).'); return undefined; }
    return (await explain.open(s)).toString();
  });

  registerCommand(context, log, diagnosticsCommandIds.diagnosticsApplyFix, async (ref: unknown) => {
    const s = resolveRef(store, ref);
    if (s === undefined || s.kind !== 'runtime') { void vscode.window.showInformationMessage('That finding is gone (the document changed).'); return undefined; }
    const f = s.finding;
    if (!vscode.workspace.isTrusted) {
      // refuse before the confirmation: a "yes" could not run anything anyway (the node services refuse)
      throw new LabError('NotSupported', 'This workspace is not trusted: no fix is applied on the nodes. Use "Manage Workspace Trust" to trust it.');
    }
    const node = f.facts['node'];
    if (f.destructive && f.fixRefused === undefined) {
      // fix commands hold no control character (fixPlan refuses them), so the preview is what runs
      const preview = (f.fixCommands ?? fixCommandLines(f.fix)).slice(0, 6).map((l) => displayText(l)).join('\n');
      const choice = await vscode.window.showWarningMessage(`Apply the fix for "${displayText(f.title)}"${node === undefined ? '' : ` on ${displayText(node)}`}? It removes or restarts something:\n\n${preview}`, { modal: true }, 'Apply');
      if (choice !== 'Apply') { return undefined; }
    }
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Applying fix: ${displayText(f.title)}`, cancellable: true }, (_p, token) =>
      getFixRunner().run({ ruleId: f.ruleId, title: f.title, fix: f.fix, destructive: f.destructive, step: f.step, ...(node === undefined ? {} : { node }), ...(f.fixAction === undefined ? {} : { fixAction: f.fixAction }), ...(f.fixCommands === undefined ? {} : { fixCommands: f.fixCommands }), ...(f.fixRefused === undefined ? {} : { fixRefused: f.fixRefused }) }, token));
    log.info(`applyFix ${f.ruleId}: ${result.outcome}`);
    if (result.outcome !== 'cancelled') { void vscode.window.showInformationMessage(displayText(result.message)); }
    return result;
  });
}
