import * as vscode from 'vscode';
import type { SecretProvider, SecretRequest } from '../../core/ssh/nodeSession';
import { targetAddress } from '../../core/nodes/nodeAddress';
import { HostBoundSecrets } from './hostBoundSecrets';

const kindText: Record<SecretRequest['kind'], string> = {
  password: 'SSH password',
  passphrase: 'passphrase of the private key',
  sudo: 'sudo password',
};

/**
 * Secrets for the core's SSH sessions: taken from VS Code's SecretStorage (the OS keychain) when
 * one is stored for the same user@host:port and host key ({@link HostBoundSecrets}), else asked
 * with a password input box and stored. A rejected secret (`retry`) is forgotten and asked again;
 * a refused sudo password says so ("sudo refused the password for user@host").
 */
export class SecretStore implements SecretProvider {
  private readonly bound: HostBoundSecrets;
  /** The input box shown or last shown: VS Code shows one at a time, and a second one would close the first. */
  private asking: Promise<unknown> = Promise.resolve();

  constructor(private readonly secrets: vscode.SecretStorage, private readonly isTrusted: () => boolean) {
    this.bound = new HostBoundSecrets(secrets);
  }

  async getSecret(request: SecretRequest): Promise<string | undefined> {
    if (!this.isTrusted()) { return undefined; }
    if (request.retry === true) {
      await this.bound.delete(request);
    } else {
      const stored = await this.bound.get(request);
      if (stored !== undefined) { return stored; }
    }
    const turn = this.asking.then(() => this.ask(request));
    this.asking = turn.catch(() => undefined);
    return turn;
  }

  /** Asks with a password box, once its turn came; a request that waited finds the answer an earlier box stored for the same target. */
  private async ask(request: SecretRequest): Promise<string | undefined> {
    if (request.retry !== true) {
      const stored = await this.bound.get(request);
      if (stored !== undefined) { return stored; }
    }
    const what = kindText[request.kind];
    const refused = request.retry !== true ? '' : request.kind === 'sudo' ? `sudo refused the password for ${request.user}@${request.host}. ` : 'That was not accepted. ';
    const value = await vscode.window.showInputBox({
      title: `Docker Network Lab: ${request.node}`,
      prompt: `${refused}The ${what} for ${targetAddress(request)}${request.keyFile === undefined ? '' : ` (${request.keyFile})`}, host key ${request.hostKeyFingerprint}. Kept in the OS keychain (VS Code SecretStorage) for this machine and host key only, never in settings.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined || value === '') { return undefined; }
    await this.bound.store(request, value);
    return value;
  }

  /** Forgets every stored secret of a node (for its user@host:port, and any kept under its name by older versions). */
  async forget(node: { readonly name: string; readonly user: string; readonly host: string; readonly port: number }): Promise<void> {
    await this.bound.forget(node);
  }
}
