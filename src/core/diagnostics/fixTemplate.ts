import type { Facts } from './ruleTypes';

/** Values used for placeholders no fact supplies: visible angle-bracket hints, never real addresses. */
export const defaultFacts: Facts = {
  node: '<node>',
  container: '<container>',
  network: '<network>',
  port: '<port>',
  hostPort: '<host-port>',
  image: '<image>',
  ip: '<ip>',
  peerIp: '<peer-ip>',
  ownIp: '<own-ip>',
  name: '<name>',
  iface: '<interface>',
  flag: '<flag>',
  host: '<host>',
  user: '<user>',
  file: '/etc/docker/daemon.json',
};

/**
 * Fills `{key}` placeholders of a fix template from the first fact source that has the key.
 * Unknown keys stay as `<key>` so the user sees what to fill in. `{{` … `}}` (Go templates in
 * `docker … --format`) are left untouched.
 */
export function fillTemplate(template: string, ...sources: readonly (Facts | undefined)[]): string {
  return template.replace(/\{\{[\s\S]*?\}\}|\{([a-zA-Z][a-zA-Z0-9]*)\}/g, (whole, key: string | undefined) => {
    if (key === undefined) { return whole; }
    for (const s of sources) {
      const v = s?.[key];
      if (v !== undefined && v !== '') { return v; }
    }
    return defaultFacts[key] ?? `<${key}>`;
  });
}

/** Turns a regex match's named groups into facts (aliases `x_2` → `x`; empty groups dropped). */
export function groupsToFacts(groups: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (groups === undefined) { return out; }
  for (const [k, v] of Object.entries(groups)) {
    if (v === undefined || v === '') { continue; }
    const key = k.replace(/_\d+$/, '');
    if (out[key] === undefined) { out[key] = v; }
  }
  return out;
}
