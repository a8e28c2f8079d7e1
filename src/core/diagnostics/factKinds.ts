import { isIP } from 'node:net';

/**
 * The kinds of value a diagnostic rule can capture from a message and put into a fix. Each kind has
 * one validator ({@link checkFact}); a value that fails it is never put into a command.
 */
export type FactKind =
  | 'containerName'
  | 'networkName'
  | 'port'
  | 'ipAddress'
  | 'hostname'
  | 'host'
  | 'id'
  | 'path'
  | 'pidFile'
  | 'interface'
  | 'imageRef'
  | 'userName'
  | 'flagName'
  | 'commandWords'
  | 'url'
  | 'version'
  | 'number'
  | 'packageName'
  | 'executable';

/** What each kind is, in words (used in the reason a value is refused). */
export const factKindDescriptions: Readonly<Record<FactKind, string>> = {
  containerName: 'container name (Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]+, or a hex id)',
  networkName: 'network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)',
  port: 'port (1-65535)',
  ipAddress: 'IP address',
  hostname: 'host name (RFC 1123 labels of letters, digits and hyphens)',
  host: 'host (a host name or an IP address)',
  id: 'id (12 to 64 hex digits)',
  path: 'absolute path (letters, digits, ._-+@/ and no .. segment)',
  pidFile: 'pid file under /run or /var/run',
  interface: 'network interface name (at most 15 of [A-Za-z0-9_.-])',
  imageRef: 'image reference ([registry/]name[:tag][@digest])',
  userName: 'user name ([a-z_][a-z0-9_-]*)',
  flagName: 'flag name ([a-z][a-z0-9-]*)',
  commandWords: 'command (up to 4 words of [a-z][a-z0-9-]*)',
  url: 'http(s) URL of a host and port',
  version: 'version number',
  number: 'whole number',
  packageName: 'package name',
  executable: 'program name or path',
};

// Docker's own rule for container names (moby daemon/names: RestrictedNamePattern); a leading "/"
// is how the engine prints names, and is not part of the name.
const containerNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
// Docker accepts almost any network name; fixes only take the same character set as container
// names (every network the tutorial creates fits), so a name can never read as shell syntax.
const networkNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const hostnameLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// The reference grammar of docker/distribution (reference/regexp.go), without its uppercase-free
// domain subtleties: domain[:port]/ then lowercase path components, then :tag and/or @digest.
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const imageRefPattern = new RegExp(
  `^(?:${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?/)?${pathComponent}(?:/${pathComponent})*`
  + '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
);
const safePathPattern = /^\/[A-Za-z0-9._+@/-]*$/;

function isHostname(v: string): boolean {
  if (v.length === 0 || v.length > 253) { return false; }
  const labels = (v.endsWith('.') ? v.slice(0, -1) : v).split('.');
  // An all-numeric last label would read as an IPv4 address (1.2.3.999).
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) { return false; }
  return labels.every((l) => hostnameLabel.test(l));
}

function isPort(v: string): boolean {
  if (!/^[0-9]{1,5}$/.test(v)) { return false; }
  const n = Number(v);
  return n >= 1 && n <= 65535;
}

function isSafePath(v: string): boolean {
  return v.length <= 4096 && safePathPattern.test(v) && !v.split('/').includes('..');
}

const validators: Readonly<Record<FactKind, (v: string) => boolean>> = {
  containerName: (v) => v.length <= 253 && containerNamePattern.test(v.startsWith('/') ? v.slice(1) : v),
  networkName: (v) => v.length <= 253 && networkNamePattern.test(v),
  port: isPort,
  ipAddress: (v) => isIP(v) !== 0,
  hostname: isHostname,
  host: (v) => isIP(v) !== 0 || isHostname(v),
  id: (v) => /^[0-9a-f]{12,64}$/.test(v),
  path: isSafePath,
  pidFile: (v) => isSafePath(v) && /^\/(?:var\/)?run\/.*[^/]\.pid$/.test(v),
  interface: (v) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(v),
  imageRef: (v) => v.length <= 255 && imageRefPattern.test(v),
  userName: (v) => /^[a-z_][a-z0-9_-]{0,31}$/.test(v),
  flagName: (v) => /^[a-z][a-z0-9-]{0,63}$/.test(v),
  commandWords: (v) => /^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*){0,3}$/.test(v),
  url: (v) => {
    const m = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]]+)(?::([0-9]+))?\/?$/.exec(v);
    if (m === null) { return false; }
    const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
    return (isIP(host) !== 0 || isHostname(host)) && (m[2] === undefined || isPort(m[2]));
  },
  version: (v) => /^[0-9]{1,6}(?:\.[0-9]{1,6}){0,3}$/.test(v),
  number: (v) => /^[0-9]{1,9}$/.test(v),
  packageName: (v) => /^[a-zA-Z0-9][a-zA-Z0-9.+_-]{0,127}$/.test(v),
  executable: (v) => v.length <= 255 && /^[A-Za-z0-9_./+][A-Za-z0-9_./+-]*$/.test(v) && !v.split('/').includes('..'),
};

/** Every kind, for tests and documentation. */
export const factKinds: readonly FactKind[] = Object.keys(validators) as FactKind[];

/**
 * True when `value` is a valid value of `kind`. Every value any kind accepts is made only of
 * characters a POSIX shell reads literally (`[A-Za-z0-9_@%+=:,./-]`, plus the single spaces between
 * the words of `commandWords`) and never starts with `-`, so it cannot be read as shell syntax or as an
 * option even before it is quoted. Pure; never throws.
 */
export function checkFact(kind: FactKind, value: string): boolean {
  return validators[kind](value);
}
