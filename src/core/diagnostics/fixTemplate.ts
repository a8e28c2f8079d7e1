import { quoteUserText } from '../util/displayText';
import { shellQuote } from '../util/shellQuote';
import { checkFact, factKindDescriptions } from './factKinds';
import type { FactKind } from './factKinds';
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

const placeholder = /\{\{[\s\S]*?\}\}|\{([a-zA-Z][a-zA-Z0-9]*)\}/g;

/** The `{key}` placeholders of a template, in order, without repeats (Go `{{…}}` templates skipped). */
export function templateKeys(template: string): string[] {
  const keys: string[] = [];
  for (const m of template.matchAll(placeholder)) {
    const k = m[1];
    if (k !== undefined && !keys.includes(k)) { keys.push(k); }
  }
  return keys;
}

/**
 * Fills `{key}` placeholders of prose (a title, a cause) from the first fact source that has the key.
 * Unknown keys stay as `<key>` so the user sees what to fill in. `{{` … `}}` (Go templates in
 * `docker … --format`) are left untouched. Not for commands: use {@link fillCommandTemplate}.
 */
export function fillTemplate(template: string, ...sources: readonly (Facts | undefined)[]): string {
  return template.replace(placeholder, (whole, key: string | undefined) => {
    if (key === undefined) { return whole; }
    for (const s of sources) {
      const v = s?.[key];
      if (v !== undefined && v !== '') { return v; }
    }
    return defaultFacts[key] ?? `<${key}>`;
  });
}

/** A command template with its facts filled, and why any fact was refused. */
export interface FilledCommand {
  /** The command text: every accepted fact shell-quoted, every refused or missing one as a `<key>` hint. */
  readonly text: string;
  /** One sentence per refused fact (value escaped for display); empty when every fact was accepted. */
  readonly refused: readonly string[];
}

/**
 * Fills a fix command template. A value from `facts` (captured from a message or given by the
 * caller: untrusted) is checked against the kind `kinds[key]` declares ({@link checkFact}) and put in
 * shell-quoted; a value that fails, or a key with no declared kind, is refused (its `<key>` hint
 * stays in the text and the reason is in `refused`). Keys no fact supplies take the rule's own
 * `defaults` (written with the rule: trusted, put in as written), then the global hints. Pure.
 */
export function fillCommandTemplate(
  template: string,
  kinds: Readonly<Record<string, FactKind>>,
  facts: readonly (Facts | undefined)[],
  defaults?: Facts,
): FilledCommand {
  const refused: string[] = [];
  const text = template.replace(placeholder, (whole, key: string | undefined) => {
    if (key === undefined) { return whole; }
    for (const s of facts) {
      const v = s?.[key];
      if (v === undefined || v === '') { continue; }
      const kind = kinds[key];
      if (kind === undefined) {
        refused.push(`the rule declares no kind for the fact ${key}, so "${quoteUserText(v)}" is not used`);
      } else if (!checkFact(kind, v)) {
        refused.push(`the ${key} "${quoteUserText(v)}" is not a valid ${factKindDescriptions[kind]}`);
      } else {
        return kind === 'commandWords' ? v.split(' ').map(shellQuote).join(' ') : shellQuote(kind === 'containerName' ? v.replace(/^\//, '') : v);
      }
      return defaultFacts[key] ?? `<${key}>`;
    }
    const d = defaults?.[key];
    if (d !== undefined && d !== '') { return d; }
    return defaultFacts[key] ?? `<${key}>`;
  });
  return { text, refused: [...new Set(refused)] };
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
