import { LabError } from '../errors';
import { shellQuote } from '../util/shellQuote';

/**
 * Lab command templates. A placeholder is `{{name}}` or `{{name.key}}` (letters, digits, `_`, `-`),
 * e.g. `{{node1.ip}}`, `{{self.name}}`, `{{images.nginx}}`, `{{cap.webIp}}`, `{{dockerVersion}}`.
 * Everything else between double braces is left alone, so Docker's Go templates
 * (`{{.State.Running}}`, `{{json .Config}}`, `{{range …}}…{{end}}`) pass through unchanged.
 *
 * Values are made safe for the shell: outside quotes they are {@link shellQuote}d; inside double
 * quotes they must consist of safe characters only; inside single quotes placeholders are refused.
 */

/** Variable values by full name (`node1.ip`, `cap.webIp`, …). */
export type TemplateVars = Readonly<Record<string, string>>;

/** Roots a placeholder may start with. */
export const templateRoots: readonly string[] = ['node1', 'node2', 'self', 'other', 'images', 'cap', 'dockerVersion', 'overlayPath', 'lab'];

const goWords = new Set(['end', 'println', 'print', 'else', 'break', 'continue', 'nil', 'true', 'false', 'range', 'if', 'with', 'block', 'define', 'template']);
const placeholderRe = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
const safeRe = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Where a placeholder sits in a template. */
export interface Placeholder {
  /** The variable name, e.g. `node1.ip`. */
  readonly name: string;
  /** Character offset of `{{`. */
  readonly offset: number;
  /** Shell quoting context at that point. */
  readonly quote: 'none' | 'single' | 'double';
}

/**
 * Lists the placeholders of a template with their shell quoting context (Go template blocks excluded).
 * Pure; never throws.
 */
export function findPlaceholders(template: string): Placeholder[] {
  const out: Placeholder[] = [];
  let quote: Placeholder['quote'] = 'none';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '{' && template[i + 1] === '{') {
      const end = template.indexOf('}}', i + 2);
      if (end > 0) {
        const inner = template.slice(i + 2, end).trim();
        if (placeholderRe.test(inner) && !goWords.has(inner)) {
          out.push({ name: inner, offset: i, quote });
        }
        i = end + 1;
        continue;
      }
    }
    if (quote === 'single') {
      if (c === "'") { quote = 'none'; }
    } else if (quote === 'double') {
      if (c === '\\') { i++; } else if (c === '"') { quote = 'none'; }
    } else if (c === '\\') {
      i++;
    } else if (c === "'") {
      quote = 'single';
    } else if (c === '"') {
      quote = 'double';
    }
  }
  return out;
}

/**
 * Checks a template without values: every placeholder has a known root, none sits inside single quotes.
 * @returns problems as sentences (empty when fine).
 */
export function lintTemplate(template: string, mode: 'shell' | 'plain' = 'shell'): string[] {
  const problems: string[] = [];
  for (const p of findPlaceholders(template)) {
    const root = p.name.split('.')[0] ?? '';
    if (!templateRoots.includes(root)) { problems.push(`unknown variable {{${p.name}}}`); }
    if (mode === 'shell' && p.quote === 'single') { problems.push(`{{${p.name}}} inside single quotes cannot be substituted safely`); }
  }
  return problems;
}

/**
 * Fills a template.
 * @param mode `shell`: the result is a shell command line (values quoted by context); `plain`: the
 *   result is a plain string such as a URL (values must consist of safe characters).
 * @throws LabError `InvalidInput` for an unknown variable, a placeholder inside single quotes, or a
 *   value that cannot be placed safely.
 */
export function renderTemplate(template: string, vars: TemplateVars, mode: 'shell' | 'plain' = 'shell'): string {
  let out = '';
  let last = 0;
  for (const p of findPlaceholders(template)) {
    const value = vars[p.name];
    if (value === undefined) {
      throw new LabError('InvalidInput', `The command template uses {{${p.name}}}, which is not known here.`);
    }
    const end = template.indexOf('}}', p.offset + 2) + 2;
    out += template.slice(last, p.offset);
    last = end;
    if (mode === 'plain' || p.quote === 'double') {
      if (!safeRe.test(value)) {
        throw new LabError('InvalidInput', `The value of {{${p.name}}} (${JSON.stringify(value)}) has characters that cannot be placed here safely.`);
      }
      out += value;
    } else if (p.quote === 'single') {
      throw new LabError('InvalidInput', `{{${p.name}}} sits inside single quotes, where it cannot be substituted safely.`);
    } else if (value.includes('\0')) {
      throw new LabError('InvalidInput', `The value of {{${p.name}}} contains a NUL byte, which cannot be passed to a shell.`);
    } else {
      out += shellQuote(value);
    }
  }
  return out + template.slice(last);
}

/** Validates a captured value by its declared type; returns it trimmed or throws `InvalidInput`. */
export function validateCapture(value: string, type: 'ipv4' | 'name' | 'int' | 'token', name: string): string {
  const v = value.trim();
  const ok = type === 'ipv4' ? isIpv4(v)
    : type === 'int' ? /^[0-9]{1,12}$/.test(v)
    : type === 'name' ? /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(v)
    : /^[A-Za-z0-9][A-Za-z0-9_.:=+/-]{0,511}$/.test(v);
  if (!ok) {
    throw new LabError('InvalidInput', `The captured value ${name} (${JSON.stringify(v.slice(0, 80))}) is not a valid ${type}.`);
  }
  return v;
}

/** True for a dotted-quad IPv4 address. */
export function isIpv4(v: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}
