import { isIP } from 'node:net';
import { hasUnsafeDisplayChars } from '../util/displayText';
import { shellJoin } from '../util/shellQuote';

/** One `-A CHAIN …` line of `iptables -S`, split into its words and checked option by option. */
export type ParsedIptablesRule =
  | { readonly ok: true; readonly chain: string; readonly spec: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Splits one line of `iptables -S` into words the way iptables printed them: words are separated by
 * one space; a word iptables had to quote is in double quotes, with `"`, `\` and `'` escaped by a
 * backslash (xtables_save_string). Returns undefined for a line that is not in that form.
 */
export function splitIptablesWords(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') { i++; continue; }
    if (line[i] === '"') {
      let w = '';
      i++;
      for (;;) {
        const c = line[i];
        if (c === undefined) { return undefined; }
        if (c === '\\') {
          const next = line[i + 1];
          if (next === undefined) { return undefined; }
          w += next;
          i += 2;
          continue;
        }
        if (c === '"') { i++; break; }
        w += c;
        i++;
      }
      if (i < line.length && line[i] !== ' ') { return undefined; }
      words.push(w);
      continue;
    }
    const end = line.indexOf(' ', i);
    const w = end === -1 ? line.slice(i) : line.slice(i, end);
    if (w.includes('"')) { return undefined; }
    words.push(w);
    i = end === -1 ? line.length : end;
  }
  return words;
}

function isAddressList(v: string): boolean {
  return v.split(',').every((a) => {
    const [ip, len, extra] = a.split('/');
    if (extra !== undefined || ip === undefined || isIP(ip) === 0) { return false; }
    return len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= 128) || isIP(len) === 4;
  });
}

/** The options a deletable blocking rule may hold, each with the check its value must pass. */
const valueOptions: Readonly<Record<string, (v: string) => boolean>> = {
  '-p': (v) => /^(tcp|udp|icmp|sctp|all|[0-9]{1,3})$/.test(v),
  '-s': isAddressList,
  '-d': isAddressList,
  '-i': (v) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\+?$/.test(v),
  '-o': (v) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\+?$/.test(v),
  '-m': (v) => /^[a-z][a-z0-9_]{0,30}$/.test(v),
  '--dport': (v) => /^[0-9]{1,5}(:[0-9]{1,5})?$/.test(v),
  '--sport': (v) => /^[0-9]{1,5}(:[0-9]{1,5})?$/.test(v),
  '--dports': (v) => /^[0-9]{1,5}(:[0-9]{1,5})?(,[0-9]{1,5}(:[0-9]{1,5})?)*$/.test(v),
  '--sports': (v) => /^[0-9]{1,5}(:[0-9]{1,5})?(,[0-9]{1,5}(:[0-9]{1,5})?)*$/.test(v),
  '--state': (v) => /^[A-Z]+(,[A-Z]+)*$/.test(v),
  '--ctstate': (v) => /^[A-Z]+(,[A-Z]+)*$/.test(v),
  '--icmp-type': (v) => /^[a-z0-9/-]{1,40}$/.test(v) && !v.startsWith('-'),
  '--reject-with': (v) => /^[a-z][a-z0-9-]{0,40}$/.test(v),
  // A comment is free text: it is passed to iptables as one quoted word, never read by a shell.
  '--comment': (v) => v.length <= 256 && !hasUnsafeDisplayChars(v),
  '-j': (v) => v === 'DROP' || v === 'REJECT',
};
const flagOptions = new Set(['!', '--syn']);

/**
 * Parses one `-A CHAIN …` line of `iptables -S` into a rule spec (the words after `-A CHAIN`) whose
 * every option is known and every value checked: the exact spec `iptables -D CHAIN <spec>` deletes.
 * Anything else (an unknown option or module argument, a malformed value, a control character) is
 * refused with the reason. Only DROP and REJECT rules are accepted. Pure; never throws.
 */
export function parseIptablesRule(line: string): ParsedIptablesRule {
  const words = splitIptablesWords(line.trim());
  if (words === undefined) { return { ok: false, reason: 'the rule is not in the form iptables -S prints' }; }
  const [append, chain, ...spec] = words;
  if (append !== '-A' || chain === undefined || !/^[A-Za-z0-9_-]{1,28}$/.test(chain) || chain.startsWith('-')) {
    return { ok: false, reason: 'the line is not an -A rule of a chain' };
  }
  let target: string | undefined;
  for (let i = 0; i < spec.length; i++) {
    const opt = spec[i] ?? '';
    if (flagOptions.has(opt)) { continue; }
    const check = valueOptions[opt];
    if (check === undefined) { return { ok: false, reason: `the rule has the option ${JSON.stringify(opt.slice(0, 40))}, which the fix does not know` }; }
    const value = spec[i + 1];
    if (value === undefined || !check(value)) { return { ok: false, reason: `the rule's ${opt} value is not one the fix accepts` }; }
    if (opt === '-j') { target = value; }
    i++;
  }
  if (target === undefined) { return { ok: false, reason: 'the rule has no DROP or REJECT target' }; }
  return { ok: true, chain, spec };
}

/** The command that deletes exactly this rule: `iptables -D CHAIN <spec>`, every word shell-quoted. */
export function iptablesDeleteCommand(rule: { readonly chain: string; readonly spec: readonly string[] }): string {
  return shellJoin(['iptables', '-D', rule.chain, ...rule.spec]);
}
