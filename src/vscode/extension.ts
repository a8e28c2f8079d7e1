import * as vscode from 'vscode';
import { registerCommands } from './commands/registry';
import { registerDiagnostics } from './diagnostics/registerDiagnostics';
import type { NodesTestApi } from './nodes/registerNodes';
import { registerNodes } from './nodes/registerNodes';
import type { StepsTestApi } from './steps/registerSteps';
import { registerSteps } from './steps/registerSteps';

/** The extension's output channel; created on activation. */
let log: vscode.LogOutputChannel | undefined;

/** What activate() returns: handles for the tests inside VS Code (`extension.exports`). */
export type ExtensionApi = NodesTestApi & StepsTestApi;

/**
 * Entry point: registers commands and views. Heavy modules (ssh2, dockerode, in dist/vendor) and the
 * lab definition load on first use.
 */
export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const started = performance.now();
  log = vscode.window.createOutputChannel('Docker Network Lab', { log: true });
  context.subscriptions.push(log);
  registerCommands(context, log);
  const nodes = registerNodes(context, log);
  const steps = registerSteps(context, log);
  registerDiagnostics(context, log);
  log.debug(`Activated in ${(performance.now() - started).toFixed(1)} ms.`);
  return { ...nodes, ...steps };
}

/** Nothing to do: everything is in context.subscriptions. */
export function deactivate(): void {
  log = undefined;
}
