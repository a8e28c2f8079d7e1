// Pure (no vscode import): where saved secrets live in SecretStorage. A secret is keyed by its kind and
// its target — user@host:port and the fingerprint of the host key accepted for the connection — never
// by the node's name alone, so a node that another settings file redefines (other host, port, user or
// host key) is asked again and never receives a secret saved for a different machine.
import { targetAddress } from '../../core/nodes/nodeAddress';
import type { SecretRequest, SecretTarget } from '../../core/ssh/nodeSession';

/** The part of VS Code's SecretStorage this module uses (an in-memory object in unit tests). */
export interface SecretStorageLike {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The kinds of secret a node may need. */
export const secretKinds: readonly SecretRequest['kind'][] = ['password', 'passphrase', 'sudo'];

/** SecretStorage key of one secret for one target (never a setting, never logged). */
export function secretKey(target: SecretTarget, kind: SecretRequest['kind']): string {
  return `dockerNetLab.secret/${kind}/${targetAddress(target)}/${target.hostKeyFingerprint}`;
}

/**
 * The key under which versions up to 0.1 kept a node's secret (by name only). Such a secret is
 * deleted when met, never used: nothing records which machine it was given for.
 */
export function legacySecretKey(node: string, kind: SecretRequest['kind']): string {
  return `dockerNetLab.node/${node}/${kind}`;
}

/** SecretStorage key of the list of keys written (SecretStorage cannot list its keys). */
export const secretIndexKey = 'dockerNetLab.secretIndex';

/** Saved secrets bound to their target (see the module comment). */
export class HostBoundSecrets {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly legacyDropped = new Set<string>();

  constructor(private readonly storage: SecretStorageLike) {}

  /** The saved secret for exactly this target and kind, or undefined. Drops a legacy name-keyed one first. */
  async get(request: SecretRequest): Promise<string | undefined> {
    await this.dropLegacy(request.node, request.kind);
    const v = await this.storage.get(secretKey(request, request.kind));
    return v === '' ? undefined : v;
  }

  /** Saves a secret for this target and kind. */
  async store(request: SecretRequest, value: string): Promise<void> {
    const key = secretKey(request, request.kind);
    await this.storage.store(key, value);
    await this.updateIndex((keys) => (keys.includes(key) ? keys : [...keys, key]));
  }

  /** Deletes the saved secret for this target and kind. */
  async delete(request: SecretRequest): Promise<void> {
    const key = secretKey(request, request.kind);
    await this.storage.delete(key);
    await this.updateIndex((keys) => keys.filter((k) => k !== key));
  }

  /**
   * Deletes every saved secret of a node: those for its user@host:port (whatever host key they were
   * bound to) and the legacy ones under its name.
   */
  async forget(node: { readonly name: string; readonly user: string; readonly host: string; readonly port: number }): Promise<void> {
    for (const kind of secretKinds) { await this.storage.delete(legacySecretKey(node.name, kind)); }
    const prefixes = secretKinds.map((kind) => `dockerNetLab.secret/${kind}/${targetAddress(node)}/`);
    const gone = (k: string): boolean => prefixes.some((p) => k.startsWith(p));
    const keys = await this.readIndex();
    for (const k of keys.filter(gone)) { await this.storage.delete(k); }
    await this.updateIndex((ks) => ks.filter((k) => !gone(k)));
  }

  private async dropLegacy(node: string, kind: SecretRequest['kind']): Promise<void> {
    const key = legacySecretKey(node, kind);
    if (this.legacyDropped.has(key)) { return; }
    await this.storage.delete(key);
    this.legacyDropped.add(key);
  }

  private async readIndex(): Promise<string[]> {
    const text = await this.storage.get(secretIndexKey);
    if (text === undefined) { return []; }
    try {
      const v: unknown = JSON.parse(text);
      return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string' && k.startsWith('dockerNetLab.secret/')) : [];
    } catch {
      return [];
    }
  }

  /** Read-modify-write of the index, one at a time. */
  private updateIndex(change: (keys: string[]) => string[]): Promise<void> {
    const next = this.chain.then(async () => {
      await this.storage.store(secretIndexKey, JSON.stringify(change(await this.readIndex())));
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
