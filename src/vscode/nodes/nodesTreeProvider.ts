import * as vscode from 'vscode';
import type { TopologySnapshot } from '../../core/topology/topologyTypes';
import type { NodeServices } from './nodeServices';
import type { NodesElement, NodesItemView, NodesViewState } from './nodesViewModel';
import { changedNodes, childrenOf, elementId, parentOf, presentationOf } from './nodesViewModel';

const collapsible: Record<NodesItemView['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

/**
 * The "Lab Nodes" tree: renders the view model of the core's snapshot. Elements are interned by id so
 * that a change of one node fires only that node's element; the first call to getChildren connects
 * every node (the lazy "first use" that loads ssh2/dockerode), unless the workspace is untrusted.
 */
export class NodesTreeProvider implements vscode.TreeDataProvider<NodesElement>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<NodesElement | undefined>();
  private readonly elements = new Map<string, NodesElement>();
  private readonly disposables: vscode.Disposable[] = [];
  private last: TopologySnapshot | undefined;
  private autoConnected = false;

  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly services: NodeServices, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      this.emitter,
      services.onDidChange((s) => { this.onSnapshot(s); }),
      services.onDidChangeConfiguration(() => { this.fireRoot(); }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => { this.autoConnected = false; this.fireRoot(); }),
    );
  }

  /** The current view state (also used by tests). */
  state(): NodesViewState {
    return {
      trusted: vscode.workspace.isTrusted,
      problems: this.services.configuration().problems,
      snapshot: this.services.snapshot(),
      labNodes: this.services.labNodeNames(),
    };
  }

  private intern(e: NodesElement): NodesElement {
    const id = elementId(e);
    const known = this.elements.get(id);
    if (known !== undefined) { return known; }
    this.elements.set(id, e);
    return e;
  }

  private fireRoot(): void {
    this.elements.clear();
    this.last = this.services.snapshot();
    this.emitter.fire(undefined);
  }

  private onSnapshot(s: TopologySnapshot): void {
    const changed = changedNodes(this.last, s);
    this.last = s;
    if (changed === 'root') { this.fireRoot(); return; }
    for (const node of changed) {
      const e = this.elements.get(elementId({ kind: 'node', node }));
      if (e === undefined) { this.fireRoot(); return; }
      this.emitter.fire(e);
    }
  }

  getChildren(element?: NodesElement): NodesElement[] {
    if (element === undefined) { this.maybeAutoConnect(); }
    return childrenOf(this.state(), element).map((e) => this.intern(e));
  }

  getParent(element: NodesElement): NodesElement | undefined {
    const p = parentOf(element);
    return p === undefined ? undefined : this.intern(p);
  }

  getTreeItem(element: NodesElement): vscode.TreeItem {
    const v = presentationOf(this.state(), element);
    if (v === undefined) {
      // the element vanished between the change event and this call; the next refresh drops it
      return new vscode.TreeItem('(gone)', vscode.TreeItemCollapsibleState.None);
    }
    return toTreeItem(v);
  }

  private maybeAutoConnect(): void {
    if (this.autoConnected || !vscode.workspace.isTrusted || this.services.configuration().nodes.length === 0) { return; }
    if (!vscode.workspace.getConfiguration('dockerNetLab').get<boolean>('autoConnect', true)) { return; }
    this.autoConnected = true;
    this.services.connect().catch((e: unknown) => { this.log.warn(`Connecting the nodes: ${e instanceof Error ? e.message : String(e)}`); });
  }

  dispose(): void {
    for (const d of this.disposables) { d.dispose(); }
  }
}

/** Converts a view-model item into a TreeItem. */
export function toTreeItem(v: NodesItemView): vscode.TreeItem {
  const item = new vscode.TreeItem(v.label, collapsible[v.collapsible]);
  item.id = v.id;
  if (v.description !== undefined) { item.description = v.description; }
  if (v.tooltip !== undefined) { item.tooltip = new vscode.MarkdownString(v.tooltip, true); }
  item.iconPath = v.icon.color === undefined ? new vscode.ThemeIcon(v.icon.id) : new vscode.ThemeIcon(v.icon.id, new vscode.ThemeColor(v.icon.color));
  item.contextValue = v.contextValue;
  if (v.command !== undefined) { item.command = { command: v.command.id, title: v.command.title, arguments: [...v.command.args] }; }
  return item;
}
