/**
 * How to reach one node: the record the nodes file, the VS Code settings and `~/.ssh/config` import
 * all produce. Secrets (passwords, passphrases) are never part of it: a provider supplies them.
 */

/** How the SSH client authenticates. */
export type AuthMethod = 'key' | 'agent' | 'password';

/** How the Docker API of a node is reached. `ssh` = over the node's SSH connection (default). */
export type DockerTransport = 'ssh' | 'tcp';

/** One node (a Linux host running dockerd) as configured by the user or the local lab. */
export interface NodeConfig {
  /** Display name and key, e.g. `docker-node1`. Unique within a lab. */
  readonly name: string;
  /** Host name or IP address that SSH connects to. */
  readonly host: string;
  /** SSH port, default 22. */
  readonly port: number;
  /** SSH user name. */
  readonly user: string;
  /** Authentication method; `key` needs {@link keyFile}. */
  readonly auth: AuthMethod;
  /** Private key file, for `auth: 'key'`. */
  readonly keyFile?: string;
  /** Accepted host-key fingerprints (`SHA256:…`), e.g. written by the local lab. */
  readonly hostKeyFingerprints?: readonly string[];
  /** Docker API transport; `tcp` uses {@link dockerTcpPort} on {@link host} (unencrypted). */
  readonly docker?: { readonly transport: DockerTransport; readonly tcpPort?: number };
  /** Run privileged commands with `sudo` (user is not root). */
  readonly sudo?: boolean;
  /** What the node runs, as the local lab recorded it (informational; absent for user nodes). */
  readonly facts?: NodeFacts;
}

/** Versions and userspace of a node, written by the local lab into its nodes file. */
export interface NodeFacts {
  /** `legacy` (host binaries), `modern` (Debian trixie rootfs) or `vm` (a QEMU virtual machine). */
  readonly kind?: 'legacy' | 'modern' | 'vm';
  /** Where the node's binaries come from. */
  readonly userspace?: string;
  /** Docker Engine version, e.g. `26.1.5+dfsg1`. */
  readonly dockerVersion?: string;
  /** etcd server version, e.g. `3.5.16`. */
  readonly etcdVersion?: string;
}
