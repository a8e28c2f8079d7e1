import * as vscode from 'vscode';
import { registerCommands } from './commands/registry';
import { registerDiagnostics } from './diagnostics/registerDiagnostics';
import { registerNodes } from './nodes/registerNodes';
import { registerSteps } from './steps/registerSteps';

/** The extension's output channel; created on activation. */
let log: vscode.LogOutputChannel | undefined;

/** Entry point: registers commands and views. Heavy modules (ssh2, dockerode) load on first use. */
export function activate(context: vscode.ExtensionContext): void {
  log = vscode.window.createOutputChannel('Docker Network Lab', { log: true });
  context.subscriptions.push(log);
  registerCommands(context, log);
  registerNodes(context, log);
  registerSteps(context, log);
  registerDiagnostics(context, log);
}

/** Nothing to do: everything is in context.subscriptions. */
export function deactivate(): void {
  log = undefined;
}
