import type * as vscode from 'vscode';

/** Registers the steps part of the extension (views, commands, providers). */
export function registerSteps(_context: vscode.ExtensionContext, _log: vscode.LogOutputChannel): void {
  // filled in by the steps feature
}
