import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Duplex } from 'node:stream';
import type * as Ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client, ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import { LabError, describeError, throwIfAborted } from '../errors';
import type { Logger } from '../logger';
import { createStreamRedactor, redact, registerSecret, silentLogger } from '../logger';
import type { NodeConfig } from '../nodes/nodeConfig';
import type { ExecOptions, ExecResult, RemoteShell } from '../remoteShell';
import type { SudoAccess } from './sudoAccess';
import { classifySudoCheck, classifySudoProbe, sudoCheckCommand, sudoCommandLine, sudoProbeCommand, sudoRefusedCommand, sudoRefusedMessage } from './sudoAccess';
import type { HostKeyPrompt, HostKeyVerdict } from './hostKeys';
import { appendKnownHost, checkHostKey, fingerprintOfKey, hostKeyCheckCommand, keyTypeOfBlob, readKnownHostsFiles } from './hostKeys';

/**
 * The target a secret is for: who logs in where, and the host key the server proved it holds. A
 * provider that keeps secrets keys them by all four, so that a node renamed, moved or re-keyed is
 * asked again and never receives a secret given for another target.
 */
export interface SecretTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** `SHA256:…` of the host key accepted for this connection (checked before any secret is asked). */
  readonly hostKeyFingerprint: string;
}

/** What a {@link SecretProvider} is asked for. */
export interface SecretRequest extends SecretTarget {
  /** `password` = SSH login password, `passphrase` = private key passphrase, `sudo` = sudo password. */
  readonly kind: 'password' | 'passphrase' | 'sudo';
  /** The node's name (for messages; a name alone never selects a secret). */
  readonly node: string;
  /** The key file, for `passphrase`. */
  readonly keyFile?: string;
  /** True when a previous answer for the same request was rejected. */
  readonly retry?: boolean;
}

/**
 * Supplies secrets on demand (VS Code: SecretStorage / an input box; CLI: environment or a prompt).
 * The session never stores, logs or puts them on a command line; it registers them with
 * {@link registerSecret} so that any accidental echo is redacted. Resolve `undefined` to cancel.
 */
export interface SecretProvider {
  getSecret(request: SecretRequest): Promise<string | undefined>;
}

/** Connection state of a {@link NodeSession}. */
export type SessionState = 'idle' | 'connecting' | 'online' | 'offline' | 'disposed';

/** Reconnect policy: exponential backoff between `initialDelayMs` and `maxDelayMs`. */
export interface ReconnectPolicy {
  /** First delay after a drop, ms (default 500). */
  readonly initialDelayMs?: number;
  /**
   * Upper bound of the delay, ms (default {@link defaultMaxReconnectDelayMs} = 3 000, so that a node that
   * comes back after a long outage is reconnected within about 3 s, measured on the local lab).
   */
  readonly maxDelayMs?: number;
  /** Attempts before giving up (default: unlimited while not disposed). */
  readonly maxAttempts?: number;
}

/** Options of a {@link NodeSession}. */
export interface NodeSessionOptions {
  readonly secrets?: SecretProvider;
  /** Asked about unknown host keys; without it unknown keys are refused with `HostKeyUnknown`. */
  readonly hostKeyPrompt?: HostKeyPrompt;
  /** known_hosts files consulted when the node pins no fingerprints (default `~/.ssh/known_hosts`). */
  readonly knownHostsFiles?: readonly string[];
  /** When set, keys accepted through the prompt are appended to this known_hosts file. */
  readonly saveAcceptedKeysTo?: string;
  readonly logger?: Logger;
  /** SSH keepalive interval, ms (default 10 000; 0 disables). */
  readonly keepaliveIntervalMs?: number;
  /** Handshake + auth timeout, ms (default 10 000). */
  readonly readyTimeoutMs?: number;
  /**
   * Time allowed for the TCP connection itself, ms (default {@link defaultConnectTimeoutMs}). While a
   * node's link is down the kernel resends the SYN after 1, 3 and 7 s; an attempt that has not
   * connected within this time is given up and the next one starts a fresh SYN, so a node whose link
   * returns is reached within about this time rather than after the next resend.
   */
  readonly connectTimeoutMs?: number;
  /** Reconnect automatically after a drop (default true); `false` disables. */
  readonly reconnect?: ReconnectPolicy | false;
  /** ssh-agent socket for `auth: 'agent'` (default `SSH_AUTH_SOCK`). */
  readonly agentSocket?: string;
}

/** The default known_hosts file of the current user. */
export function defaultKnownHostsFiles(): string[] {
  return [path.join(os.homedir(), '.ssh', 'known_hosts')];
}

type Ssh2Module = typeof Ssh2;
let ssh2Module: Ssh2Module | undefined;
/** Loads ssh2 on first use (keeps extension activation fast). */
export async function loadSsh2(): Promise<Ssh2Module> {
  ssh2Module ??= await import('ssh2');
  return ssh2Module;
}

/** Default TCP connect timeout, ms (see {@link NodeSessionOptions.connectTimeoutMs}). */
export const defaultConnectTimeoutMs = 2500;

/** Default upper bound of the reconnect backoff, ms (see {@link ReconnectPolicy.maxDelayMs}). */
export const defaultMaxReconnectDelayMs = 3000;

const transientCodes = new Set(['Unreachable', 'Timeout', 'Disconnected']);

/**
 * One SSH connection to one node (ssh2), shared by command execution ({@link RemoteShell}) and the
 * Docker API channels. Verifies the host key before authenticating, asks a {@link SecretProvider}
 * for passwords/passphrases, keeps the connection alive and reconnects with bounded exponential
 * backoff after a drop. Errors are {@link LabError}s: `Unreachable`, `AuthFailed`, `HostKeyChanged`,
 * `HostKeyUnknown`, `HostKeyRejected`, `Cancelled`, `Disconnected`, `Timeout`.
 */
export class NodeSession implements RemoteShell {
  /** The node's name. */
  readonly node: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private stateValue: SessionState = 'idle';
  private lastErrorValue: LabError | undefined;
  private readonly listeners = new Set<(state: SessionState, error?: LabError) => void>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  /** Fingerprint of the host key of the live connection (what sudo secrets are bound to). */
  private acceptedFingerprint: string | undefined;
  /** What sudo needs on the live connection (see {@link ./sudoAccess}), once found. */
  private sudo: { readonly client: Client; readonly ready: Promise<{ access: SudoAccess; password?: string }> } | undefined;
  private readonly logger: Logger;

  constructor(readonly config: NodeConfig, private readonly options: NodeSessionOptions = {}) {
    this.node = config.name;
    this.logger = options.logger ?? silentLogger;
  }

  /** Current state. */
  get state(): SessionState { return this.stateValue; }

  /** The error that put the session offline, if any. */
  get lastError(): LabError | undefined { return this.lastErrorValue; }

  /** Subscribes to state changes; returns an unsubscribe function. */
  onStateChange(listener: (state: SessionState, error?: LabError) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private setState(state: SessionState, error?: LabError): void {
    if (this.stateValue === 'disposed') { return; }
    this.stateValue = state;
    this.lastErrorValue = error;
    for (const l of [...this.listeners]) {
      try { l(state, error); } catch (e) { this.logger.error(`state listener failed: ${describeError(e)}`); }
    }
  }

  /**
   * Connects (or returns the live connection). Concurrent calls share one attempt.
   * @throws LabError (see class doc); `Cancelled` when `signal` aborts or the session is disposed.
   */
  async connect(signal?: AbortSignal): Promise<Client> {
    if (this.stateValue === 'disposed') { throw new LabError('Cancelled', `The session to ${this.node} was closed.`, { node: this.node }); }
    throwIfAborted(signal);
    if (this.client !== undefined) { return this.client; }
    if (this.connecting === undefined) {
      if (this.reconnectTimer !== undefined) { clearTimeout(this.reconnectTimer); this.reconnectTimer = undefined; }
      this.connecting = this.open().finally(() => { this.connecting = undefined; });
    }
    const attempt = this.connecting;
    if (signal === undefined) { return attempt; }
    return new Promise<Client>((resolve, reject) => {
      const onAbort = (): void => reject(new LabError('Cancelled', 'The operation was cancelled.', { node: this.node }));
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.then((c) => { signal.removeEventListener('abort', onAbort); resolve(c); },
        (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e instanceof Error ? e : new Error(String(e))); });
    });
  }

  private where(): string { return `${this.config.host}:${this.config.port}`; }

  private connectTimeoutMs(): number { return this.options.connectTimeoutMs ?? defaultConnectTimeoutMs; }

  /**
   * The authentication attempts for this node, built only after the host key was accepted (so no
   * secret is asked for, and nothing is sent, for an unknown or changed host).
   * @param hostKeyFingerprint the fingerprint of the accepted host key; secrets are asked for it.
   */
  private async authMethods(hostKeyFingerprint: string): Promise<AnyAuthMethod[]> {
    const n = this.config;
    const username = n.user;
    const base = { node: n.name, user: n.user, host: n.host, port: n.port, hostKeyFingerprint };
    if (n.auth === 'agent') {
      const sock = this.options.agentSocket ?? process.env['SSH_AUTH_SOCK'];
      if (sock === undefined || sock === '') {
        throw new LabError('AuthFailed', `No ssh-agent for ${n.user}@${n.host}: SSH_AUTH_SOCK is not set.`, {
          node: n.name, fix: 'Start ssh-agent and add your key (ssh-add), or configure a key file for this node.',
        });
      }
      return [{ type: 'agent', username, agent: sock }];
    }
    if (n.auth === 'password') {
      const password = await this.options.secrets?.getSecret({ kind: 'password', ...base });
      if (password === undefined) { throw new LabError('Cancelled', `No password given for ${n.user}@${n.host}.`, { node: n.name }); }
      registerSecret(password);
      return [
        { type: 'password', username, password },
        { type: 'keyboard-interactive', username, prompt: (_name, _instr, _lang, prompts, finish) => { finish(prompts.map(() => password)); } },
      ];
    }
    const keyFile = n.keyFile ?? '';
    let data: Buffer;
    try {
      data = fs.readFileSync(keyFile);
    } catch (e) {
      throw new LabError('AuthFailed', `Cannot read the key file ${keyFile} for ${n.user}@${n.host}: ${(e as Error).message}.`, {
        node: n.name, cause: e, fix: 'Check the keyFile path of this node.',
      });
    }
    const { utils } = await loadSsh2();
    const plain = utils.parseKey(data);
    if (!(plain instanceof Error)) { return [{ type: 'publickey', username, key: data }]; }
    // Encrypted (or unreadable) key: ask for the passphrase, check it locally before using it.
    for (let retry = false; ; retry = true) {
      const passphrase = await this.options.secrets?.getSecret({ kind: 'passphrase', ...base, keyFile, retry });
      if (passphrase === undefined) {
        throw new LabError(retry ? 'AuthFailed' : 'Cancelled', `No passphrase given for the key ${keyFile} (${n.user}@${n.host}).`, { node: n.name });
      }
      registerSecret(passphrase);
      const parsed: ParsedKey | ParsedKey[] | Error = utils.parseKey(data, passphrase);
      if (!(parsed instanceof Error)) { return [{ type: 'publickey', username, key: data, passphrase }]; }
      if (retry) {
        throw new LabError('AuthFailed', `The passphrase for the key ${keyFile} (${n.user}@${n.host}) is wrong, or the file is not a private key.`, {
          node: n.name, fix: 'Check the passphrase, or that keyFile is an OpenSSH/PEM private key.',
        });
      }
    }
  }

  private async open(): Promise<Client> {
    this.setState('connecting');
    const attemptStart = Date.now();
    const n = this.config;
    let verdict: HostKeyVerdict | undefined;
    let presented: Buffer | undefined;
    let promptRefused = false;
    let authError: unknown;
    try {
      const { Client: SshClient } = await loadSsh2();
      const client = new SshClient();
      // Our own handshake timer (instead of ssh2's readyTimeout) so that it can pause while the user
      // reads the host-key prompt.
      const readyMs = this.options.readyTimeoutMs ?? 10_000;
      const connectMs = this.connectTimeoutMs();
      let readyTimer: NodeJS.Timeout | undefined;
      let onReadyTimeout: () => void = () => undefined;
      const armReadyTimer = (): void => { readyTimer = setTimeout(() => onReadyTimeout(), readyMs); };
      const pauseReadyTimer = (): void => { if (readyTimer !== undefined) { clearTimeout(readyTimer); readyTimer = undefined; } };
      const knownHosts = readKnownHostsFiles(this.options.knownHostsFiles ?? defaultKnownHostsFiles());
      const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
        presented = key;
        verdict = checkHostKey({ host: n.host, port: n.port, key, ...(n.hostKeyFingerprints === undefined ? {} : { fingerprints: n.hostKeyFingerprints }), knownHosts });
        if (verdict.status === 'trusted') { verify(true); return; }
        if (verdict.status !== 'unknown' || this.options.hostKeyPrompt === undefined) { verify(false); return; }
        const otherTypesKnown = verdict.otherTypesKnown;
        pauseReadyTimer();
        this.options.hostKeyPrompt({ node: n.name, host: n.host, port: n.port, keyType: keyTypeOfBlob(key), fingerprint: fingerprintOfKey(key), otherTypesKnown })
          .then((ok) => {
            if (ok && this.options.saveAcceptedKeysTo !== undefined) {
              try { appendKnownHost(this.options.saveAcceptedKeysTo, n.host, n.port, key); } catch (e) {
                this.logger.warn(`Could not save the host key of ${n.name} to ${this.options.saveAcceptedKeysTo}: ${describeError(e)}`);
              }
            }
            promptRefused = !ok;
            armReadyTimer();
            verify(ok);
          }, () => { promptRefused = true; armReadyTimer(); verify(false); });
      };
      const keepaliveInterval = this.options.keepaliveIntervalMs ?? 10_000;
      let queue: AnyAuthMethod[] | undefined;
      const cfg: ConnectConfig = {
        host: n.host,
        port: n.port,
        username: n.user,
        readyTimeout: 0x7fffffff,
        keepaliveInterval,
        keepaliveCountMax: 3,
        hostVerifier,
        authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void): void => {
          if (queue !== undefined) {
            // the server refused the previous attempt: try the next method it still accepts
            const m = queue.find((x) => methodsLeft === null || methodsLeft.includes(x.type));
            queue = m === undefined ? [] : queue.slice(queue.indexOf(m) + 1);
            next(m ?? false);
            return;
          }
          pauseReadyTimer(); // the user may be typing a password
          // ssh2 authenticates only after hostVerifier accepted the key it was given
          if (presented === undefined) { next(false); return; }
          this.authMethods(fingerprintOfKey(presented)).then((methods) => {
            armReadyTimer();
            const m = methods.find((x) => methodsLeft === null || methodsLeft.includes(x.type)) ?? methods[0];
            queue = m === undefined ? [] : methods.slice(methods.indexOf(m) + 1);
            next(m ?? false);
          }, (e: unknown) => { armReadyTimer(); authError = e; next(false); });
        },
      } as ConnectConfig;
      this.logger.debug(`ssh: connecting to ${n.user}@${this.where()} (${n.name}, auth ${n.auth})`);
      const t0 = Date.now();
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error & { level?: string; code?: string }): void => {
          pauseReadyTimer();
          clearTimeout(connectTimer);
          client.removeListener('ready', onReady);
          client.end();
          reject(err);
        };
        const onReady = (): void => { pauseReadyTimer(); client.removeListener('error', onError); resolve(); };
        const giveUp = (err: Error): void => {
          pauseReadyTimer();
          clearTimeout(connectTimer);
          client.removeListener('error', onError);
          client.removeListener('ready', onReady);
          client.on('error', () => undefined);
          client.destroy(); // end() would wait for a handshake that never comes
          reject(err);
        };
        onReadyTimeout = (): void => { giveUp(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' })); };
        const connectTimer = setTimeout(() => { giveUp(Object.assign(new Error(`No TCP connection within ${connectMs} ms`), { level: 'client-connect-timeout' })); }, connectMs);
        client.once('connect', () => { clearTimeout(connectTimer); });
        client.once('ready', onReady);
        client.once('error', onError);
        armReadyTimer();
        client.connect(cfg);
      });
      if (this.stateValue === 'disposed') {
        client.end();
        throw new LabError('Cancelled', `The session to ${n.name} was closed while connecting.`, { node: n.name });
      }
      this.logger.info(`ssh: ${n.name} connected in ${Date.now() - t0} ms`);
      // small request/response exchanges (Docker API calls) must not wait for Nagle's algorithm
      client.setNoDelay(true);
      client.on('error', (err) => { this.logger.warn(`ssh: ${n.name}: ${redact(err.message)}`); });
      client.once('close', () => this.onDropped(client));
      this.client = client;
      this.acceptedFingerprint = presented === undefined ? undefined : fingerprintOfKey(presented);
      this.reconnectAttempt = 0;
      this.setState('online');
      return client;
    } catch (e) {
      const cause = authError ?? e;
      const err = cause instanceof LabError ? cause : this.mapConnectError(cause, verdict, presented, promptRefused);
      this.logger.warn(`ssh: ${n.name}: ${redact(err.message)}`);
      this.setState('offline', err);
      // the time this attempt already waited (a connect timeout) counts toward the backoff
      if (transientCodes.has(err.code)) { this.scheduleReconnect(Date.now() - attemptStart); }
      throw err;
    }
  }

  private mapConnectError(e: unknown, verdict: HostKeyVerdict | undefined, presented: Buffer | undefined, promptRefused: boolean): LabError {
    const n = this.config;
    const err = e as Error & { level?: string; code?: string };
    const opts = { node: n.name, cause: e };
    if (verdict !== undefined && verdict.status !== 'trusted' && presented !== undefined) {
      const fp = fingerprintOfKey(presented);
      const kt = keyTypeOfBlob(presented);
      switch (verdict.status) {
        case 'changed':
          return new LabError('HostKeyChanged',
            `The host key of ${n.name} (${this.where()}) has changed: the server presented ${kt} ${fp}, but ${verdict.file} line ${verdict.line} holds ${verdict.knownFingerprint}. Nothing was sent to the server.`,
            { ...opts, fix: `If the node was reinstalled on purpose, remove the old key with "ssh-keygen -R ${n.port === 22 ? n.host : `[${n.host}]:${n.port}`} -f ${verdict.file}" and connect again; otherwise this may be an attack.` });
        case 'changed-fingerprint':
          return new LabError('HostKeyChanged',
            `The host key of ${n.name} (${this.where()}) has changed: the server presented ${kt} ${fp}, but the nodes file pins ${verdict.expected.join(', ')}. Nothing was sent to the server.`,
            { ...opts, fix: `If the node was recreated on purpose, update hostKeyFingerprints of ${n.name} in the nodes file (for the local lab: "docker-net-lab lab up" rewrites it); otherwise this may be an attack.` });
        case 'revoked':
          return new LabError('HostKeyRejected', `The host key ${fp} of ${n.name} (${this.where()}) is marked @revoked in ${verdict.file} line ${verdict.line}.`,
            { ...opts, fix: 'Ask the node\'s administrator for its current host key.' });
        case 'unknown':
          if (promptRefused) {
            return new LabError('HostKeyRejected', `The host key ${kt} ${fp} of ${n.name} (${this.where()}) was not accepted.`, opts);
          }
          return new LabError('HostKeyUnknown',
            `The host key of ${n.name} (${this.where()}) is not known: ${kt} ${fp}. Nothing was sent to the server.`,
            { ...opts, fix: `Check the fingerprint on the node ("${hostKeyCheckCommand(kt)}"), then trust it: "ssh-keyscan -p ${n.port} ${n.host} >> ~/.ssh/known_hosts", or add "${fp}" to hostKeyFingerprints of ${n.name}.` });
      }
    }
    if (err.level === 'client-authentication') {
      const how = n.auth === 'key' ? `the key ${n.keyFile ?? '?'}` : n.auth === 'agent' ? 'the keys of ssh-agent' : 'the password';
      return new LabError('AuthFailed', `${n.user}@${n.host} (port ${n.port}) refused ${how}.`, {
        ...opts, fix: n.auth === 'password' ? 'Check the password, or whether the server allows password login.' : `Make sure the public key is in ~${n.user}/.ssh/authorized_keys on ${n.host}.`,
      });
    }
    if (err.level === 'client-connect-timeout') {
      return new LabError('Unreachable', `${n.name} (${this.where()}) did not accept a TCP connection within ${(this.connectTimeoutMs() / 1000).toString()} s.`, {
        ...opts, fix: `Check that ${n.host} is up and reachable from here (a firewall that drops packets looks like this).`,
      });
    }
    if (err.level === 'client-timeout') {
      return new LabError('Unreachable', `${n.name} (${this.where()}) did not answer the SSH handshake in time.`, {
        ...opts, fix: `Check that ${n.host} is up and sshd listens on port ${n.port}.`,
      });
    }
    const code = err.code ?? '';
    if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code) || err.level === 'client-socket' || err.level === 'client-dns') {
      const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host name not found' : code !== '' ? code : redact(err.message);
      return new LabError('Unreachable', `Cannot reach ${n.name} at ${this.where()}: ${why}.`, {
        ...opts, fix: `Check that ${n.host} is up, reachable from here, and that sshd listens on port ${n.port}.`,
      });
    }
    return new LabError('Unreachable', `SSH to ${n.name} (${this.where()}) failed: ${redact(describeError(e))}.`, opts);
  }

  private onDropped(client: Client): void {
    if (this.client !== client) { return; }
    this.client = undefined;
    this.acceptedFingerprint = undefined;
    this.sudo = undefined;
    if (this.stateValue === 'disposed') { return; }
    this.logger.warn(`ssh: connection to ${this.node} closed`);
    this.setState('offline', new LabError('Disconnected', `The SSH connection to ${this.node} (${this.where()}) was closed.`, { node: this.node }));
    this.scheduleReconnect();
  }

  /** Schedules the next attempt after the backoff delay, less `alreadyWaitedMs` spent by the failed attempt. */
  private scheduleReconnect(alreadyWaitedMs = 0): void {
    const policy = this.options.reconnect;
    if (policy === false || this.stateValue === 'disposed' || this.reconnectTimer !== undefined) { return; }
    const max = policy?.maxAttempts;
    if (max !== undefined && this.reconnectAttempt >= max) { return; }
    const delay = Math.max(0, this.nextReconnectDelayMs() - alreadyWaitedMs);
    this.reconnectAttempt++;
    this.logger.debug(`ssh: reconnecting ${this.node} in ${delay} ms (attempt ${this.reconnectAttempt})`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Delay the next automatic reconnect would wait (for tests), ms. */
  nextReconnectDelayMs(): number {
    const policy = this.options.reconnect === false ? undefined : this.options.reconnect;
    return Math.min((policy?.initialDelayMs ?? 500) * 2 ** this.reconnectAttempt, policy?.maxDelayMs ?? defaultMaxReconnectDelayMs);
  }

  /**
   * Runs a command line on the node (see {@link RemoteShell.exec}). With `sudo` and a non-root user
   * on a node configured for sudo, runs it as root through sudo ({@link ./sudoAccess}): what the
   * node's sudo needs (no password, a password, a terminal) is found once per connection; a password
   * is asked from the provider once, checked, and written to stdin — never onto the command line.
   * Stdout and stderr are redacted as whole streams ({@link createStreamRedactor}): the chunks and the
   * result never show a registered secret, also when one is split across chunks.
   * @throws LabError `Cancelled`, `Timeout`, `Disconnected`, `SudoFailed` (sudo refused the password or
   *   the user, or is missing), `NotSupported` (stdin through a sudo that needs a terminal) or a connect error.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.connect(options.signal);
    if (options.sudo === true && this.config.sudo === true && this.config.user !== 'root') {
      return this.execAsRoot(client, command, options);
    }
    throwIfAborted(options.signal);
    this.logger.debug(`ssh: ${this.node}$ ${redact(command)}`);
    return this.run(client, command, options, '', false);
  }

  private async execAsRoot(client: Client, command: string, options: ExecOptions): Promise<ExecResult> {
    const { access, password } = await this.sudoAccess(client, options.signal);
    if (access.pty && options.stdin !== undefined) {
      throw new LabError('NotSupported', `sudo on ${this.node} needs a terminal (requiretty), and a command that reads stdin cannot get one.`, {
        node: this.node, fix: 'Remove "Defaults requiretty" from the node\'s sudoers (visudo), or run this command yourself.',
      });
    }
    throwIfAborted(options.signal);
    this.logger.debug(`ssh: ${this.node}# ${redact(command)}${access.pty ? ' (sudo in a terminal)' : ''}`);
    const r = await this.run(client, sudoCommandLine(command, access), options, password === undefined ? '' : `${password}\n`, access.pty);
    if (access.password && sudoRefusedCommand({ code: r.code, text: `${r.stderr}\n${r.stdout}` })) {
      // the password changed since it was checked: check (and ask) again next time
      if (this.sudo?.client === client) { this.sudo = undefined; }
      throw this.sudoRefused();
    }
    return r;
  }

  private sudoRefused(why?: string): LabError {
    const { user, host } = this.config;
    return new LabError('SudoFailed', sudoRefusedMessage(user, host, why), {
      node: this.node, fix: `Check the sudo password of ${user} on ${host}: it is asked again (the CLI reads DOCKER_NET_LAB_SUDO_PASSWORD).`,
    });
  }

  /** What this connection's sudo needs (found once per connection; concurrent callers share the answer). */
  private sudoAccess(client: Client, signal?: AbortSignal): Promise<{ access: SudoAccess; password?: string }> {
    if (this.sudo?.client !== client) {
      const ready = this.findSudoAccess(client, signal);
      this.sudo = { client, ready };
      // a failed attempt is not kept: the next command probes (and asks) again
      ready.catch(() => { if (this.sudo?.ready === ready) { this.sudo = undefined; } });
    }
    return this.sudo.ready;
  }

  private async findSudoAccess(client: Client, signal?: AbortSignal): Promise<{ access: SudoAccess; password?: string }> {
    const { user, host } = this.config;
    const quiet = { timeoutMs: 20_000, ...(signal === undefined ? {} : { signal }) };
    const probe = async (pty: boolean): Promise<ReturnType<typeof classifySudoProbe>> => {
      const r = await this.run(client, sudoProbeCommand, quiet, '', pty);
      return classifySudoProbe({ code: r.code, text: `${r.stderr}\n${r.stdout}` });
    };
    let found = await probe(false);
    const pty = found.verdict === 'tty';
    if (pty) { found = await probe(true); }
    if (found.verdict === 'ok') {
      this.logger.info(`ssh: ${this.node}: sudo runs without a password${pty ? ' (in a terminal: requiretty)' : ''}`);
      return { access: { pty, password: false } };
    }
    if (found.verdict !== 'password') {
      const why = found.verdict === 'unavailable' ? (found.reason === '' ? 'sudo did not run' : found.reason) : 'it wants a terminal even in one';
      throw new LabError('SudoFailed', `sudo cannot run commands as root for ${user}@${host} on ${this.node}: ${why}.`, {
        node: this.node, fix: `Install sudo on ${host} and give ${user} sudo rights (e.g. add it to the sudo group), or connect as root.`,
      });
    }
    const hostKeyFingerprint = this.acceptedFingerprint;
    if (hostKeyFingerprint === undefined) { throw new LabError('Disconnected', `The connection to ${this.node} has no verified host key.`, { node: this.node }); }
    const request = { kind: 'sudo' as const, node: this.node, user, host, port: this.config.port, hostKeyFingerprint };
    for (let retry = false; ; retry = true) {
      let pw: string | undefined;
      try {
        pw = await this.options.secrets?.getSecret(retry ? { ...request, retry } : request);
      } catch (e) {
        // a provider that cannot ask again (the CLI) ends with the refusal itself
        if (retry) { throw this.sudoRefused(); }
        throw e;
      }
      if (pw === undefined || pw === '') { throw retry ? this.sudoRefused() : this.sudoRefused('no password was given'); }
      registerSecret(pw);
      const r = await this.run(client, sudoCheckCommand, quiet, `${pw}\n`, pty);
      const checked = classifySudoCheck({ code: r.code, text: `${r.stderr}\n${r.stdout}` });
      if (checked.verdict === 'ok') {
        this.logger.info(`ssh: ${this.node}: sudo accepted the password${pty ? ' (in a terminal: requiretty)' : ''}`);
        return { access: { pty, password: true }, password: pw };
      }
      if (checked.verdict === 'not-allowed') {
        throw new LabError('SudoFailed', `sudo accepted the password for ${user}@${host}, but ${user} may not run commands as root on ${this.node}.`, {
          node: this.node, fix: `Give ${user} sudo rights on ${host} (e.g. add it to the sudo group), or connect as root.`,
        });
      }
      if (checked.verdict === 'failed') {
        throw new LabError('SudoFailed', `sudo on ${this.node} failed to check the password for ${user}@${host}: ${checked.reason}.`, { node: this.node });
      }
      if (retry) { throw this.sudoRefused(); }
      this.logger.warn(`ssh: ${this.node}: sudo refused the password for ${user}@${host}; asking again`);
    }
  }

  /** Starts one command channel (in a pseudo-terminal with echo off when `pty`) and collects its result. */
  private run(client: Client, line: string, options: ExecOptions, stdinPrefix: string, pty: boolean): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const onChannel = (err: Error | undefined, stream: ClientChannel): void => {
        if (err !== undefined && err !== null) {
          reject(new LabError('Disconnected', `Cannot start a command on ${this.node}: ${redact(err.message)}.`, { node: this.node, cause: err }));
          return;
        }
        this.runChannel(stream, options, stdinPrefix, pty, resolve, reject);
      };
      // no echo: the password written to the terminal is never sent back; no CR before each LF
      if (pty) { client.exec(line, { pty: { term: 'dumb', modes: { ECHO: 0, ECHONL: 0, ONLCR: 0 } } }, onChannel); } else { client.exec(line, onChannel); }
    });
  }

  private runChannel(stream: ClientChannel, options: ExecOptions, stdinPrefix: string, pty: boolean,
    resolve: (r: ExecResult) => void, reject: (e: unknown) => void): void {
    // each stream is decoded, then redacted as a whole (a secret split across chunks is masked too)
    const outDec = new StringDecoder('utf8');
    const errDec = new StringDecoder('utf8');
    const outRedactor = createStreamRedactor();
    const errRedactor = createStreamRedactor();
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let sig: string | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (e?: LabError): void => {
      if (settled) { return; }
      settled = true;
      if (timer !== undefined) { clearTimeout(timer); }
      options.signal?.removeEventListener('abort', onAbort);
      if (e !== undefined) {
        try { stream.signal('TERM'); } catch { /* channel may be gone */ }
        stream.close();
        reject(e);
        return;
      }
      const tailOut = outRedactor.write(outDec.end()) + outRedactor.end();
      const tailErr = errRedactor.write(errDec.end()) + errRedactor.end();
      if (tailOut !== '') { stdout += tailOut; options.onStdout?.(tailOut); }
      if (tailErr !== '') { stderr += tailErr; options.onStderr?.(tailErr); }
      resolve({ code, ...(sig === undefined ? {} : { signal: sig }), stdout, stderr });
    };
    const onAbort = (): void => finish(new LabError('Cancelled', 'The command was cancelled.', { node: this.node }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => finish(new LabError('Timeout', `The command on ${this.node} did not finish within ${options.timeoutMs} ms.`, { node: this.node })), options.timeoutMs);
    }
    stream.on('data', (d: Buffer) => { const s = outRedactor.write(outDec.write(d)); if (s !== '') { stdout += s; options.onStdout?.(s); } });
    stream.stderr.on('data', (d: Buffer) => { const s = errRedactor.write(errDec.write(d)); if (s !== '') { stderr += s; options.onStderr?.(s); } });
    let exited = false;
    stream.on('exit', (c: number | null, s?: string) => { exited = true; code = c; if (typeof s === 'string') { sig = s; } });
    stream.on('close', () => {
      if (exited || this.client !== undefined) { finish(); return; }
      finish(new LabError('Disconnected', `The connection to ${this.node} was lost while a command was running.`, { node: this.node }));
    });
    stream.on('error', (e: Error) => finish(new LabError('Disconnected', `The command channel on ${this.node} failed: ${redact(e.message)}.`, { node: this.node, cause: e })));
    if (stdinPrefix !== '' || options.stdin !== undefined) { stream.write(stdinPrefix + (options.stdin ?? '')); }
    // a terminal's input is not closed (sshd would pass no end-of-file through it); the command ends by itself
    if (!pty) { stream.end(); }
  }

  /**
   * Opens a `direct-streamlocal@openssh.com` channel to a Unix socket on the node (e.g.
   * `/var/run/docker.sock`).
   * @throws LabError `NotSupported` when the server refuses streamlocal forwarding, `DockerUnavailable`
   * when nothing listens on the socket, or a connect error.
   */
  async openUnixSocket(socketPath: string, signal?: AbortSignal): Promise<Duplex> {
    const client = await this.connect(signal);
    return new Promise<Duplex>((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => {
        if (err !== undefined && err !== null) {
          // SSH_OPEN_CONNECT_FAILED (2): forwarding works but nothing listens on the socket
          if ((err as Error & { reason?: unknown }).reason === 2) {
            reject(new LabError('DockerUnavailable', `Nothing listens on ${socketPath} on ${this.node} (is dockerd running?).`, {
              node: this.node, cause: err, fix: `Start dockerd on ${this.node}; for the local lab run "docker-net-lab lab up".`,
            }));
            return;
          }
          reject(new LabError('NotSupported', `${this.node} refused a channel to ${socketPath}: ${err.message}.`, { node: this.node, cause: err }));
          return;
        }
        resolve(ch);
      });
    });
  }

  /**
   * Runs a command whose stdin/stdout is the returned stream (e.g. `docker system dial-stdio`).
   * @throws LabError `Disconnected` or a connect error.
   */
  async openExecStream(command: string, signal?: AbortSignal): Promise<Duplex> {
    const client = await this.connect(signal);
    return new Promise<Duplex>((resolve, reject) => {
      client.exec(command, (err, ch) => {
        if (err !== undefined && err !== null) {
          reject(new LabError('Disconnected', `Cannot start "${command}" on ${this.node}: ${err.message}.`, { node: this.node, cause: err }));
          return;
        }
        resolve(ch);
      });
    });
  }

  /** Closes the connection and stops reconnecting. Safe to call twice. */
  dispose(): void {
    if (this.reconnectTimer !== undefined) { clearTimeout(this.reconnectTimer); this.reconnectTimer = undefined; }
    const c = this.client;
    this.client = undefined;
    this.stateValue = 'disposed';
    c?.end();
    this.listeners.clear();
  }
}
