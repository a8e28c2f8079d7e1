import * as vscode from 'vscode';
import type { NodeServices } from './nodeServices';
import { statusSummary } from './nodesViewModel';

/** "$(server) 2/2 nodes" in the status bar: per-node states in the tooltip, click focuses the Lab Nodes view. */
export function createNodesStatusBar(services: NodeServices): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('dockerNetLab.nodes', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Docker Network Lab Nodes';
  item.command = 'dockerNetLab.nodes.focus';
  const update = (): void => {
    const snapshot = services.snapshot();
    if (snapshot.nodes.length === 0) { item.hide(); return; }
    const s = statusSummary(snapshot);
    item.text = s.text;
    const md = new vscode.MarkdownString(`**Docker Network Lab nodes**\n\n${s.lines.map((l) => `- ${l.replace(/([\\`*_[\]<>])/g, '\\$1')}`).join('\n')}\n\nClick to show the Lab Nodes view.`);
    item.tooltip = md;
    const bad = snapshot.nodes.some((n) => n.state === 'error' || n.state === 'offline');
    item.backgroundColor = bad ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.show();
  };
  update();
  const sub = services.onDidChange(update);
  return { dispose: () => { sub.dispose(); item.dispose(); } };
}
