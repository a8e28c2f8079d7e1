import type * as vscode from 'vscode';

/** Registers the diagnostics part of the extension (views, commands, providers). */
export function registerDiagnostics(_context: vscode.ExtensionContext, _log: vscode.LogOutputChannel): void {
  // filled in by the diagnostics feature
}
