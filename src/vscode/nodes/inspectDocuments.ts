import * as vscode from 'vscode';
import { LabError, describeError, isLabError } from '../../core/errors';
import type { NodeServices } from './nodeServices';

/** The virtual document scheme of read-only inspect JSON. */
export const inspectScheme = 'docker-net-lab';

/** The URI of the inspect document of a network or container on a node. */
export function inspectUri(node: string, kind: 'network' | 'container', id: string, name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: inspectScheme, path: `/${node}/${kind}/${name}.json`, query: new URLSearchParams({ node, kind, id }).toString() });
}

/**
 * Serves `docker-net-lab:` documents: the core's raw `docker inspect` JSON, read-only. Open documents
 * are re-read (debounced) when the topology changes, so they follow the live object.
 */
export class InspectDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscription: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;
  private readonly shown = new Set<string>();

  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly services: NodeServices) {
    this.subscription = services.onDidChange(() => {
      if (this.timer !== undefined) { return; }
      this.timer = setTimeout(() => {
        this.timer = undefined;
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === inspectScheme && !doc.isClosed) { this.changeEmitter.fire(doc.uri); }
        }
      }, 500);
    });
  }

  dispose(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); }
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const node = q.get('node');
    const kind = q.get('kind');
    const id = q.get('id');
    if (node === null || id === null || (kind !== 'network' && kind !== 'container')) {
      throw new LabError('InvalidInput', `Not an inspect document: ${uri.toString()}.`);
    }
    const key = uri.toString();
    try {
      const data = await this.services.inspect(node, kind, id);
      this.shown.add(key);
      return `${JSON.stringify(data, null, 2)}\n`;
    } catch (e) {
      // first open: the command reports the error; a live refresh says what happened in the document
      if (!this.shown.has(key)) { throw e; }
      return `${JSON.stringify({ error: describeError(e), code: isLabError(e) ? e.code : 'Unknown', node, [kind]: id }, null, 2)}\n`;
    }
  }
}
