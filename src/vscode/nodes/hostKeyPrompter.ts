import * as vscode from 'vscode';
import type { HostKeyPrompt, HostKeyPromptInfo } from '../../core/ssh/hostKeys';
import { hostKeyCheckCommand } from '../../core/ssh/hostKeys';

/**
 * The HostKeyPrompt of the VS Code host: a modal warning with the SHA256 fingerprint, before
 * anything (credentials included) is sent. Accepted keys are appended by the core to the
 * extension's own known_hosts in globalStorage (see NodeServices), so a click in VS Code never
 * edits the user's ~/.ssh/known_hosts. In an untrusted workspace every key is refused.
 */
export function createHostKeyPrompt(isTrusted: () => boolean, log: vscode.LogOutputChannel): HostKeyPrompt {
  return async (info: HostKeyPromptInfo): Promise<boolean> => {
    if (!isTrusted()) { return false; }
    const where = info.port === 22 ? info.host : `${info.host} port ${info.port}`;
    const other = info.otherTypesKnown.length > 0
      ? `\n\nNote: other key types (${info.otherTypesKnown.join(', ')}) are already known for this host; a new key type can also mean the server was replaced.`
      : '';
    const trust = 'Trust and connect';
    const choice = await vscode.window.showWarningMessage(
      `The authenticity of ${info.node} (${where}) cannot be established.`,
      {
        modal: true,
        detail: `${info.keyType} key fingerprint:\n${info.fingerprint}\n\nCompare it with what the node itself prints for its key ("${hostKeyCheckCommand(info.keyType)}" on the node) before trusting it.${other}`,
      },
      trust,
    );
    const accepted = choice === trust;
    log.info(`Host key ${info.keyType} ${info.fingerprint} of ${info.node} (${where}) ${accepted ? 'trusted by the user' : 'not trusted'}.`);
    return accepted;
  };
}
