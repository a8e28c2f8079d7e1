import * as vscode from 'vscode';
import type { SecretProvider, SecretRequest } from '../../core/ssh/nodeSession';

const kindText: Record<SecretRequest['kind'], string> = {
  password: 'SSH password',
  passphrase: 'passphrase of the private key',
  sudo: 'sudo password',
};

/** SecretStorage key of one secret of one node (never a setting, never logged). */
export function secretKey(node: string, kind: SecretRequest['kind']): string {
  return `dockerNetLab.node/${node}/${kind}`;
}

/**
 * Secrets for the core's SSH sessions: taken from VS Code's SecretStorage (the OS keychain) when
 * stored, else asked with a password input box and stored on success of the prompt. A rejected
 * secret (`retry`) is forgotten and asked again.
 */
export class SecretStore implements SecretProvider {
  constructor(private readonly secrets: vscode.SecretStorage, private readonly isTrusted: () => boolean) {}

  async getSecret(request: SecretRequest): Promise<string | undefined> {
    if (!this.isTrusted()) { return undefined; }
    const key = secretKey(request.node, request.kind);
    if (request.retry === true) {
      await this.secrets.delete(key);
    } else {
      const stored = await this.secrets.get(key);
      if (stored !== undefined && stored !== '') { return stored; }
    }
    const what = kindText[request.kind];
    const value = await vscode.window.showInputBox({
      title: `Docker Network Lab: ${request.node}`,
      prompt: `${request.retry === true ? 'That was not accepted. ' : ''}The ${what} for ${request.user}@${request.host}${request.keyFile === undefined ? '' : ` (${request.keyFile})`}. Kept in the OS keychain (VS Code SecretStorage), never in settings.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined || value === '') { return undefined; }
    await this.secrets.store(key, value);
    return value;
  }

  /** Forgets every stored secret of a node. */
  async forget(node: string): Promise<void> {
    for (const kind of Object.keys(kindText) as SecretRequest['kind'][]) {
      await this.secrets.delete(secretKey(node, kind));
    }
  }
}
