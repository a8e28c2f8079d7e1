// `user@host[:port]` as users type it, and one spelling of a target for keys and comparisons.
import { nodeConfigSchema } from './nodesFile';

/** The result of parsing `user@host:port`. */
export type ParsedAddress =
  | { readonly ok: true; readonly user: string; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly message: string };

const hostPattern = new RegExp(nodeConfigSchema.properties.host.pattern);
const userPattern = new RegExp(nodeConfigSchema.properties.user.pattern);

/**
 * Parses a node address as a user types it (Add Node, DOCKER_NET_LAB_SECRETS_FOR): `user@host`,
 * `user@host:port`, `user@[v6addr]:port`.
 * Port defaults to 22. The message names the part that is wrong.
 */
export function parseUserHostPort(text: string): ParsedAddress {
  const t = text.trim();
  if (t === '') { return { ok: false, message: 'Type user@host or user@host:port, e.g. root@node1:22.' }; }
  const at = t.lastIndexOf('@');
  if (at <= 0) { return { ok: false, message: 'The user is missing: type user@host or user@host:port.' }; }
  const user = t.slice(0, at);
  let rest = t.slice(at + 1);
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) { return { ok: false, message: 'An IPv6 address needs a closing "]".' }; }
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) { return { ok: false, message: 'Only ":port" may follow "]".' }; }
    portText = after === '' ? undefined : after.slice(1);
    rest = rest.slice(1, close);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0 && rest.indexOf(':') === colon) {
      portText = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (!userPattern.test(user)) {
    return { ok: false, message: `"${user}" is not a valid user name (lower-case letters, digits, "_", ".", "-"; at most 32).` };
  }
  if (rest === '') { return { ok: false, message: 'The host is missing after "@".' }; }
  if (rest.length > 253 || !hostPattern.test(rest)) {
    return { ok: false, message: `"${rest}" is not a valid host name or IP address.` };
  }
  let port = 22;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) { return { ok: false, message: `"${portText}" is not a port number (1–65535).` }; }
    port = Number(portText);
    if (port < 1 || port > 65535) { return { ok: false, message: `Port ${port} is out of range (1–65535).` }; }
  }
  return { ok: true, user, host: rest, port };
}

/**
 * One spelling of `user@host:port`: the host in lower case (names are case-insensitive), an IPv6
 * literal in brackets, the port always written.
 */
export function targetAddress(t: { readonly user: string; readonly host: string; readonly port: number }): string {
  const host = t.host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return `${t.user}@${host.includes(':') ? `[${host}]` : host}:${t.port}`;
}
