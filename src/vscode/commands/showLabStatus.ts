import * as vscode from 'vscode';
import { isLabError } from '../../core/errors';
import { labNodesFile } from '../../core/nodes/localLabPaths';
import { readNodesFile } from '../../core/nodes/nodesFile';

/** "Show Lab Status": says which nodes the local lab's nodes file lists. */
export function showLabStatus(log: vscode.LogOutputChannel): string {
  const file = labNodesFile();
  try {
    const nodes = readNodesFile(file).nodes;
    const text = `Local lab: ${nodes.map((n) => `${n.name} (${n.host})`).join(', ')}.`;
    log.info(text);
    void vscode.window.showInformationMessage(text);
    return text;
  } catch (e) {
    if (isLabError(e, 'LabNotRunning')) {
      const text = 'The local lab is not running: no nodes file was found.';
      void vscode.window.showInformationMessage(`${text} ${e.fix ?? ''}`);
      return text;
    }
    throw e;
  }
}
