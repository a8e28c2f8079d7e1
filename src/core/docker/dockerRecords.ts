/**
 * Our own records of what a Docker engine reports, normalised from the Engine API JSON (the shape
 * dockerode returns). Pure functions: the topology merge and its tests use them on recorded JSON.
 */

/** `docker version`, the parts we use. */
export interface EngineVersion {
  /** Server version, e.g. `20.10.24`. */
  readonly version: string;
  /** Engine API version, e.g. `1.41`. */
  readonly apiVersion: string;
  readonly os: string;
  readonly arch: string;
  readonly kernelVersion: string;
}

/** `docker info`, the parts we use. */
export interface EngineInfo {
  /** The engine's host name. */
  readonly name: string;
  readonly serverVersion: string;
  readonly containers: number;
  readonly images: number;
  /** Swarm state: `inactive`, `active`, `pending`, … */
  readonly swarmState: string;
  /** Legacy cluster store (`etcd://…`) when configured (Docker ≤ 22). */
  readonly clusterStore?: string;
  readonly clusterAdvertise?: string;
}

/** One network as listed by the engine. */
export interface EngineNetwork {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly scope: string;
  /** Subnets in CIDR form. */
  readonly subnets: readonly string[];
  /** Gateways (no prefix length), aligned with subnets where given. */
  readonly gateways: readonly string[];
  readonly internal: boolean;
  readonly attachable: boolean;
}

/** One container's endpoint in one network. */
export interface EngineEndpoint {
  readonly networkId: string;
  /** IPv4 without prefix length; empty when none. */
  readonly ipv4: string;
  readonly mac: string;
}

/** One container as listed by the engine (`docker ps -a`). */
export interface EngineContainer {
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  readonly image: string;
  readonly state: string;
  readonly status: string;
  /** e.g. `0.0.0.0:5000->5000/tcp`, `6379/tcp`. */
  readonly ports: readonly string[];
  /** Per network name. */
  readonly networks: Readonly<Record<string, EngineEndpoint>>;
}

/** One parsed Docker event. */
export interface EngineEvent {
  /** `container`, `network`, `image`, … */
  readonly type: string;
  /** `start`, `die`, `destroy`, `connect`, `disconnect`, `create`, … */
  readonly action: string;
  /** The object's id (container id; for network events the network id). */
  readonly id: string;
  /** Attributes (name, image, container for network connect/disconnect, …). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Event time, ms since the epoch. */
  readonly timeMs: number;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Removes a `/prefix` length from an address: `10.0.0.2/24` → `10.0.0.2`. */
export function stripPrefix(address: string): string {
  const i = address.indexOf('/');
  return i < 0 ? address : address.slice(0, i);
}

/** Normalises `GET /version`. */
export function toEngineVersion(raw: unknown): EngineVersion {
  const r = obj(raw);
  return { version: str(r['Version']), apiVersion: str(r['ApiVersion']), os: str(r['Os']), arch: str(r['Arch']), kernelVersion: str(r['KernelVersion']) };
}

/** Normalises `GET /info`. */
export function toEngineInfo(raw: unknown): EngineInfo {
  const r = obj(raw);
  const store = str(r['ClusterStore']);
  const adv = str(r['ClusterAdvertise']);
  return {
    name: str(r['Name']),
    serverVersion: str(r['ServerVersion']),
    containers: typeof r['Containers'] === 'number' ? r['Containers'] : 0,
    images: typeof r['Images'] === 'number' ? r['Images'] : 0,
    swarmState: str(obj(r['Swarm'])['LocalNodeState']) || 'inactive',
    ...(store === '' ? {} : { clusterStore: store }),
    ...(adv === '' ? {} : { clusterAdvertise: adv }),
  };
}

/** Normalises one entry of `GET /networks` (or a network inspect). */
export function toEngineNetwork(raw: unknown): EngineNetwork {
  const r = obj(raw);
  const configs = arr(obj(r['IPAM'])['Config']).map(obj);
  return {
    id: str(r['Id']),
    name: str(r['Name']),
    driver: str(r['Driver']),
    scope: str(r['Scope']),
    subnets: configs.map((c) => str(c['Subnet'])).filter((s) => s !== ''),
    gateways: configs.map((c) => stripPrefix(str(c['Gateway']))).filter((s) => s !== ''),
    internal: r['Internal'] === true,
    attachable: r['Attachable'] === true,
  };
}

function formatPort(p: Record<string, unknown>): string {
  const priv = str(p['PrivatePort']);
  const type = str(p['Type']) || 'tcp';
  const pub = str(p['PublicPort']);
  if (pub === '') { return `${priv}/${type}`; }
  const ip = str(p['IP']) || '0.0.0.0';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${pub}->${priv}/${type}`;
}

/** Normalises one entry of `GET /containers/json?all=1`. */
export function toEngineContainer(raw: unknown): EngineContainer {
  const r = obj(raw);
  const names = arr(r['Names']).map(str);
  const nets = obj(obj(r['NetworkSettings'])['Networks']);
  const networks: Record<string, EngineEndpoint> = {};
  for (const [netName, v] of Object.entries(nets)) {
    const e = obj(v);
    networks[netName] = { networkId: str(e['NetworkID']), ipv4: stripPrefix(str(e['IPAddress'])), mac: str(e['MacAddress']) };
  }
  const ports = [...new Set(arr(r['Ports']).map((p) => formatPort(obj(p))))].sort();
  return {
    id: str(r['Id']),
    // with --link a container also lists "/other/alias" names; its own name is the one without a second slash
    name: (names.find((n) => !n.slice(1).includes('/')) ?? names[0] ?? '').replace(/^\//, ''),
    image: str(r['Image']),
    state: str(r['State']),
    status: str(r['Status']),
    ports,
    networks,
  };
}

/** Normalises one Docker event message (`GET /events` line). */
export function toEngineEvent(raw: unknown): EngineEvent {
  const r = obj(raw);
  const actor = obj(r['Actor']);
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(actor['Attributes']))) { attributes[k] = str(v); }
  const nano = r['timeNano'];
  const timeMs = typeof nano === 'number' ? Math.floor(nano / 1e6) : typeof r['time'] === 'number' ? r['time'] * 1000 : 0;
  return {
    type: str(r['Type']) || str(r['type']),
    action: str(r['Action']) || str(r['status']),
    id: str(actor['ID']) || str(r['id']),
    attributes,
    timeMs,
  };
}

/**
 * Splits a stream of concatenated/newline-delimited JSON values into complete values; returns the
 * parsed values and the unfinished rest to carry over to the next chunk.
 */
export function splitJsonStream(buffer: string): { values: unknown[]; rest: string } {
  const values: unknown[] = [];
  let rest = buffer;
  for (;;) {
    const nl = rest.indexOf('\n');
    if (nl < 0) { break; }
    const line = rest.slice(0, nl).trim();
    rest = rest.slice(nl + 1);
    if (line === '') { continue; }
    try { values.push(JSON.parse(line)); } catch { /* not JSON: skipped */ }
  }
  return { values, rest };
}
