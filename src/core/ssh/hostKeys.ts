import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

/**
 * Host-key verification the way OpenSSH does it: SHA256 fingerprints, `known_hosts` files (plain,
 * hashed `|1|salt|hash`, `[host]:port`, comma lists, `@revoked` / `@cert-authority` markers).
 * Pure functions plus a small verifier used by {@link ../ssh/nodeSession#NodeSession}.
 */

/** One parsed line of a known_hosts file. */
export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  readonly line: number;
  /** `@revoked`, `@cert-authority` or undefined. */
  readonly marker?: string;
  /** The host patterns as written (comma-separated list split up); a hashed entry has one item `|1|…`. */
  readonly patterns: readonly string[];
  /** Key type, e.g. `ssh-ed25519`. */
  readonly keyType: string;
  /** The key blob (base64 decoded). */
  readonly key: Buffer;
}

/**
 * The OpenSSH-style fingerprint of a public key blob: `SHA256:` + base64 of the SHA-256 digest
 * without `=` padding (as `ssh-keygen -lf` prints it).
 */
export function fingerprintOfKey(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written at the start of an SSH public key blob (e.g. `ssh-ed25519`); `unknown` if unreadable. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) { return 'unknown'; }
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || blob.length < 4 + len) { return 'unknown'; }
  return blob.subarray(4, 4 + len).toString('latin1');
}

/**
 * The command that prints, on the node itself, the fingerprint of its host key of this type (what a
 * host-key prompt tells the user to compare with), e.g. `ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub`
 * for `ecdsa-sha2-nistp256`. The public key files are world-readable: no root needed. An unknown type
 * gives the command for every host key.
 */
export function hostKeyCheckCommand(keyType: string): string {
  const file = keyType === 'ssh-ed25519' ? 'ed25519'
    : keyType.startsWith('ecdsa-sha2-') ? 'ecdsa'
      : keyType === 'ssh-rsa' || keyType.startsWith('rsa-sha2-') ? 'rsa'
        : undefined;
  return file === undefined ? 'for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$f"; done' : `ssh-keygen -lf /etc/ssh/ssh_host_${file}_key.pub`;
}

/** Normalises a fingerprint for comparison (accepts it with or without the `=` padding). */
export function normaliseFingerprint(fp: string): string {
  return fp.trim().replace(/=+$/, '');
}

/**
 * Parses the text of a known_hosts file. Comments, blank and malformed lines are skipped (OpenSSH
 * ignores them too); line numbers are kept so that messages can point at the line.
 */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) { continue; }
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@') === true) { marker = fields.shift(); }
    const [hosts, keyType, keyB64] = fields;
    if (hosts === undefined || keyType === undefined || keyB64 === undefined) { continue; }
    if (!/^[A-Za-z0-9+/]+={0,3}$/.test(keyB64)) { continue; }
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) { continue; }
    const patterns = hosts.startsWith('|') ? [hosts] : hosts.split(',').filter((p) => p !== '');
    out.push({ line: i + 1, ...(marker === undefined ? {} : { marker }), patterns, keyType, key });
  }
  return out;
}

/** The name OpenSSH looks up for a host and port: `host` for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const parts = entry.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1' || parts[2] === undefined || parts[3] === undefined) { return false; }
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  const got = crypto.createHmac('sha1', salt).update(name).digest();
  return expected.length === got.length && crypto.timingSafeEqual(expected, got);
}

/**
 * True when a known_hosts entry's host patterns select `host:port`. Handles hashed entries,
 * `[host]:port`, `*`/`?` wildcards and `!negation` (a matching negation wins).
 */
export function entryMatchesHost(entry: KnownHostsEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('|')) {
      if (hashedMatch(p, name)) { matched = true; }
      continue;
    }
    const negated = p.startsWith('!');
    const pat = negated ? p.slice(1) : p;
    if (globMatch(pat, name)) {
      if (negated) { return false; }
      matched = true;
    }
  }
  return matched;
}

/** One known_hosts file and its text (already read; tests pass text directly). */
export interface KnownHostsSource {
  /** The file name, used in messages and in the `ssh-keygen -R` fix. */
  readonly file: string;
  /** The file's content. */
  readonly text: string;
}

/** The verdict on a presented host key. */
export type HostKeyVerdict =
  | { readonly status: 'trusted'; readonly via: 'fingerprint' | 'known_hosts'; readonly file?: string; readonly line?: number }
  | { readonly status: 'unknown'; readonly otherTypesKnown: readonly string[] }
  | { readonly status: 'changed'; readonly file: string; readonly line: number; readonly knownFingerprint: string }
  | { readonly status: 'changed-fingerprint'; readonly expected: readonly string[] }
  | { readonly status: 'revoked'; readonly file: string; readonly line: number };

/** What to check a presented key against. */
export interface HostKeyCheckInput {
  readonly host: string;
  readonly port: number;
  /** The raw public key blob the server presented. */
  readonly key: Buffer;
  /** Pinned fingerprints (nodes file `hostKeyFingerprints`); when given and non-empty they decide alone. */
  readonly fingerprints?: readonly string[];
  /** known_hosts files to consult when no fingerprints are pinned. */
  readonly knownHosts?: readonly KnownHostsSource[];
}

/**
 * Decides whether a presented host key is trusted. Pinned fingerprints decide alone when present
 * (match → trusted, no match → `changed-fingerprint`). Otherwise known_hosts: a matching `@revoked`
 * key → revoked; an entry for the host with the same key → trusted; one with the same key type
 * but another key → changed (first such line); nothing → unknown.
 */
export function checkHostKey(input: HostKeyCheckInput): HostKeyVerdict {
  const fp = fingerprintOfKey(input.key);
  const pinned = (input.fingerprints ?? []).map(normaliseFingerprint);
  if (pinned.length > 0) {
    return pinned.includes(fp) ? { status: 'trusted', via: 'fingerprint' } : { status: 'changed-fingerprint', expected: pinned };
  }
  const type = keyTypeOfBlob(input.key);
  let changed: HostKeyVerdict | undefined;
  let trusted: HostKeyVerdict | undefined;
  const otherTypes = new Set<string>();
  for (const src of input.knownHosts ?? []) {
    for (const e of parseKnownHosts(src.text)) {
      if (e.marker === '@revoked') {
        if (e.key.equals(input.key)) { return { status: 'revoked', file: src.file, line: e.line }; }
        continue;
      }
      if (e.marker !== undefined) { continue; } // @cert-authority: certificates are not supported here
      if (!entryMatchesHost(e, input.host, input.port)) { continue; }
      if (e.key.equals(input.key)) {
        trusted ??= { status: 'trusted', via: 'known_hosts', file: src.file, line: e.line };
      } else if (e.keyType === type) {
        changed ??= { status: 'changed', file: src.file, line: e.line, knownFingerprint: fingerprintOfKey(e.key) };
      } else {
        otherTypes.add(e.keyType);
      }
    }
  }
  if (trusted !== undefined) { return trusted; }
  if (changed !== undefined) { return changed; }
  return { status: 'unknown', otherTypesKnown: [...otherTypes] };
}

/** Reads known_hosts files that exist; missing or unreadable files are skipped. */
export function readKnownHostsFiles(files: readonly string[]): KnownHostsSource[] {
  const out: KnownHostsSource[] = [];
  for (const file of files) {
    try {
      out.push({ file, text: fs.readFileSync(file, 'utf8') });
    } catch {
      // a missing known_hosts file means "nothing known", as with OpenSSH
    }
  }
  return out;
}

/** The known_hosts line for a host key: `host ssh-ed25519 AAAA…` (or `[host]:port …`). */
export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOfBlob(key)} ${key.toString('base64')}`;
}

/**
 * Appends a host key to a known_hosts file (created with mode 0600 when missing; a newline is
 * added first when the file does not end with one).
 * @throws the fs error when the file cannot be written.
 */
export function appendKnownHost(file: string, host: string, port: number, key: Buffer): void {
  let prefix = '';
  try {
    const cur = fs.readFileSync(file, 'utf8');
    if (cur.length > 0 && !cur.endsWith('\n')) { prefix = '\n'; }
  } catch {
    // new file
  }
  fs.appendFileSync(file, `${prefix}${formatKnownHostsLine(host, port, key)}\n`, { mode: 0o600 });
}

/** What a {@link HostKeyPrompt} is shown for an unknown host key. */
export interface HostKeyPromptInfo {
  /** The node's name. */
  readonly node: string;
  readonly host: string;
  readonly port: number;
  /** e.g. `ssh-ed25519`. */
  readonly keyType: string;
  /** `SHA256:…`. */
  readonly fingerprint: string;
  /** Key types known for this host under other algorithms (OpenSSH warns about these). */
  readonly otherTypesKnown: readonly string[];
}

/**
 * Asks the user whether to trust an unknown host key. Resolves `true` to trust it. Called before
 * anything (credentials included) is sent to the server.
 */
export type HostKeyPrompt = (info: HostKeyPromptInfo) => Promise<boolean>;
