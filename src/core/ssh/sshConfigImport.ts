import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseSshConfig } from 'ssh-config';
import { describeError } from '../errors';
import type { NodeConfig } from '../nodes/nodeConfig';
import { parseNodeConfig } from '../nodes/nodesFile';

/** A host of `~/.ssh/config` that could not become a node, and why. */
export interface SkippedSshHost {
  readonly alias: string;
  readonly reason: string;
}

/** The result of {@link importSshConfig}. */
export interface SshConfigImport {
  /** Validated node candidates, in file order (name = the Host alias). */
  readonly nodes: readonly NodeConfig[];
  readonly skipped: readonly SkippedSshHost[];
}

/** Context of the import (swapped in tests). */
export interface SshConfigImportContext {
  /** Home directory for `~` and `%d` (default `os.homedir()`). */
  readonly home?: string;
  /** Local user name, the default `User` (default `os.userInfo().username`). */
  readonly localUser?: string;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Expands `~`, `%d` (home), `%u` (local user), `%h` (host) and `%%` in an IdentityFile value. */
export function expandIdentityFile(value: string, home: string, localUser: string, host: string): string {
  let v = value.replace(/%(.)/g, (m, c: string) => (c === 'd' ? home : c === 'u' ? localUser : c === 'h' ? host : c === '%' ? '%' : m));
  if (v === '~') { v = home; } else if (v.startsWith('~/')) { v = path.join(home, v.slice(2)); }
  return v;
}

/**
 * Turns the `Host` entries of an OpenSSH client config into {@link NodeConfig} candidates: for each
 * alias without wildcards (`*`, `?`, `!`), the effective HostName, User, Port and first
 * IdentityFile as OpenSSH computes them (first value wins, `Host *` defaults apply; `Match exec`
 * is never run). With an IdentityFile the node uses key auth, otherwise ssh-agent. A user other
 * than `root` gets `sudo: true`: the lab's root commands (hostname, firewall, daemon restarts) then
 * run through sudo on that node. Each candidate is validated with {@link parseNodeConfig}; invalid
 * ones are listed in `skipped`.
 */
export function importSshConfig(text: string, context: SshConfigImportContext = {}): SshConfigImport {
  const home = context.home ?? os.homedir();
  const localUser = context.localUser ?? os.userInfo().username;
  const config = parseSshConfig(text);
  const nodes: NodeConfig[] = [];
  const skipped: SkippedSshHost[] = [];
  const seen = new Set<string>();
  for (const line of config) {
    if (!('param' in line) || line.param.toLowerCase() !== 'host') { continue; }
    const aliases = typeof line.value === 'string' ? line.value.split(/\s+/) : line.value.map((v) => v.val);
    for (const alias of aliases) {
      if (alias === '' || seen.has(alias)) { continue; }
      seen.add(alias);
      if (/[*?!]/.test(alias)) { continue; }
      const c = config.compute(alias, { ignoreCase: true, matchExec: false });
      const get = (k: string): string | undefined => first(c[k.toLowerCase()] ?? c[k]);
      const host = get('HostName') ?? alias;
      const identity = get('IdentityFile');
      const portText = get('Port') ?? '22';
      const user = get('User') ?? localUser;
      const candidate: Record<string, unknown> = {
        name: alias,
        host: host.replace(/%h/g, alias),
        port: /^\d+$/.test(portText) ? Number(portText) : portText,
        user,
        auth: identity === undefined ? 'agent' : 'key',
        ...(identity === undefined ? {} : { keyFile: expandIdentityFile(identity, home, localUser, host) }),
        ...(user === 'root' ? {} : { sudo: true }),
      };
      try {
        nodes.push(parseNodeConfig(candidate, `~/.ssh/config Host ${alias}`));
      } catch (e) {
        skipped.push({ alias, reason: describeError(e) });
      }
    }
  }
  return { nodes, skipped };
}

/**
 * Reads and imports an ssh config file (default `~/.ssh/config`); a missing file gives no nodes.
 * @throws the fs error for unreadable (not missing) files.
 */
export function importSshConfigFile(file = path.join(os.homedir(), '.ssh', 'config'), context: SshConfigImportContext = {}): SshConfigImport {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') { return { nodes: [], skipped: [] }; }
    throw e;
  }
  return importSshConfig(text, context);
}
