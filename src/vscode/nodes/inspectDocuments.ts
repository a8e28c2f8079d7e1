import * as vscode from 'vscode';
import { LabError } from '../../core/errors';
import type { NodeServices } from './nodeServices';

/** The virtual document scheme of read-only inspect JSON. */
export const inspectScheme = 'docker-net-lab';

/** The URI of the inspect document of a network or container on a node. */
export function inspectUri(node: string, kind: 'network' | 'container', id: string, name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: inspectScheme, path: `/${node}/${kind}/${name}.json`, query: new URLSearchParams({ node, kind, id }).toString() });
}

/** Serves `docker-net-lab:` documents: the core's raw `docker inspect` JSON, read-only. */
export class InspectDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly services: NodeServices) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const node = q.get('node');
    const kind = q.get('kind');
    const id = q.get('id');
    if (node === null || id === null || (kind !== 'network' && kind !== 'container')) {
      throw new LabError('InvalidInput', `Not an inspect document: ${uri.toString()}.`);
    }
    const data = await this.services.inspect(node, kind, id);
    return `${JSON.stringify(data, null, 2)}\n`;
  }
}
