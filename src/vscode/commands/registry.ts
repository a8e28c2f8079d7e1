import * as vscode from 'vscode';
import { describeError, isLabError } from '../../core/errors';
import type { CommandId } from './commandIds';
import { showLabStatus } from './showLabStatus';

/** A command handler; receives the arguments VS Code passes (tree item, URI, …). */
export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * Registers one command with the common wrapper: full error in the log, one sentence to the user
 * with a "Show Log" button, silence on cancellation.
 */
export function registerCommand(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, id: CommandId, handler: CommandHandler): void {
  context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (e) {
      if (isLabError(e, 'Cancelled') || e instanceof vscode.CancellationError) { return undefined; }
      log.error(`${id}: ${e instanceof Error ? (e.stack ?? e.message) : describeError(e)}`);
      const choice = await vscode.window.showErrorMessage(describeError(e), 'Show Log');
      if (choice === 'Show Log') { log.show(true); }
      return undefined;
    }
  }));
}

/** Registers every command of the extension. */
export function registerCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  registerCommand(context, log, 'dockerNetLab.lab.showStatus', () => showLabStatus(log));
}
