import type * as vscode from 'vscode';

/** Registers the nodes part of the extension (views, commands, providers). */
export function registerNodes(_context: vscode.ExtensionContext, _log: vscode.LogOutputChannel): void {
  // filled in by the nodes feature
}
