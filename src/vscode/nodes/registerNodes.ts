import * as vscode from 'vscode';
import { inspectScheme, InspectDocumentProvider } from './inspectDocuments';
import { registerNodeCommands } from './nodeCommands';
import type { NodeServices } from './nodeServices';
import { createNodeServices } from './nodeServices';
import { NodeTerminals } from './nodeTerminals';
import { createNodesStatusBar } from './nodesStatusBar';
import { NodesTreeProvider } from './nodesTreeProvider';

/** What the nodes feature exposes to tests (through activate()'s return value). */
export interface NodesTestApi {
  readonly nodesTree: NodesTreeProvider;
  readonly nodeServices: NodeServices;
}

/**
 * Registers the nodes part of the extension: the Lab Nodes tree, its commands, the inspect document
 * provider, the status bar item. Nothing here loads ssh2/dockerode: the first getChildren (or command)
 * does, through NodeServices.
 */
export function registerNodes(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): NodesTestApi {
  const services = createNodeServices(context, log);
  const nodesTree = new NodesTreeProvider(services, log);
  const view = vscode.window.createTreeView('dockerNetLab.nodes', { treeDataProvider: nodesTree, showCollapseAll: true });
  const terminals = new NodeTerminals(services);
  const inspect = new InspectDocumentProvider(services);
  context.subscriptions.push(
    nodesTree, view, terminals, inspect,
    vscode.workspace.registerTextDocumentContentProvider(inspectScheme, inspect),
    createNodesStatusBar(services),
  );
  registerNodeCommands(context, log, services, terminals);
  return { nodesTree, nodeServices: services };
}
