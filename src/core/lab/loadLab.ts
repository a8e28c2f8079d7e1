import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { LabError } from '../errors';
import type { Action, ChapterDefinition, Check, Expectation, LabDefinition, StepDefinition } from './labDefinition';
import { isBuiltin } from './labDefinition';
import { lintTemplate } from './template';

/** One problem found in a lab file: which file, where (JSON pointer), what. */
export interface LabProblem {
  /** File name relative to the labs root, e.g. `docker-networking/ch1-port-mapping.json`. */
  readonly file: string;
  /** JSON pointer of the offending value (`` for the whole document). */
  readonly pointer: string;
  readonly message: string;
}

/** Thrown by {@link loadLab}: code `InvalidLabDefinition`, with every problem found. */
export class LabDefinitionError extends LabError {
  /** All problems, in file order. */
  readonly problems: readonly LabProblem[];
  constructor(problems: readonly LabProblem[]) {
    super('InvalidLabDefinition', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** `file: /pointer message`. */
export function formatProblem(p: LabProblem): string {
  return `${p.file}: ${p.pointer === '' ? '(document)' : p.pointer} ${p.message}`;
}

const validators = new Map<string, { lab: ValidateFunction; chapter: ValidateFunction }>();

function compile(schemaFile: string): { lab: ValidateFunction; chapter: ValidateFunction } {
  const cached = validators.get(schemaFile);
  if (cached !== undefined) { return cached; }
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as { $id: string };
  // validateSchema: false: the shipped schema is checked against the meta-schema by a unit test
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, validateSchema: false });
  ajv.addSchema(schema);
  const lab = ajv.getSchema(`${schema.$id}#/definitions/labFile`);
  const chapter = ajv.getSchema(`${schema.$id}#/definitions/chapterFile`);
  if (lab === undefined || chapter === undefined) {
    throw new LabError('InvalidLabDefinition', `${schemaFile} has no labFile/chapterFile definitions.`);
  }
  const v = { lab, chapter };
  validators.set(schemaFile, v);
  return v;
}

function ajvProblems(file: string, errors: readonly ErrorObject[] | null | undefined): LabProblem[] {
  const seen = new Set<string>();
  const out: LabProblem[] = [];
  for (const e of errors ?? []) {
    // if/then schemas repeat the same fault as "must match then schema": keep the concrete ones
    if (e.keyword === 'if') { continue; }
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') { message = `has an unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`; }
    if (e.keyword === 'enum') { message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`; }
    if (e.keyword === 'required') { message = `is missing the required field "${String((e.params as { missingProperty: string }).missingProperty)}"`; }
    const key = `${e.instancePath} ${message}`;
    if (!seen.has(key)) { seen.add(key); out.push({ file, pointer: e.instancePath, message }); }
  }
  return out;
}

function readJson(abs: string, rel: string, problems: LabProblem[]): unknown {
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    problems.push({ file: rel, pointer: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    problems.push({ file: rel, pointer: '', message: `is not valid JSON: ${(e as Error).message}` });
    return undefined;
  }
}

/** Options of {@link loadLab}. */
export interface LoadLabOptions {
  /** The schema file; default `<labDir>/../schema/lab.schema.json`. */
  readonly schemaFile?: string;
}

/**
 * Loads and validates a lab: `lab.json` in `labDir` and every chapter file it lists. Validation is
 * the JSON schema (ajv, defaults filled in) plus cross-file rules: unique step ids, prerequisites
 * point to earlier steps, `supersededBy` to later ones, templates use known variables (images,
 * captures defined earlier), `stdinFile`s exist, regexes compile.
 * @param labDir directory holding lab.json (e.g. `labs/docker-networking`).
 * @throws LabDefinitionError (code `InvalidLabDefinition`) listing every problem with file and JSON pointer.
 */
export function loadLab(labDir: string, options: LoadLabOptions = {}): LabDefinition {
  const dir = path.resolve(labDir);
  const schemaFile = options.schemaFile ?? path.join(dir, '..', 'schema', 'lab.schema.json');
  const v = compile(schemaFile);
  const base = path.basename(dir);
  const problems: LabProblem[] = [];
  const labRel = `${base}/lab.json`;
  const labData = readJson(path.join(dir, 'lab.json'), labRel, problems);
  if (labData === undefined) { throw new LabDefinitionError(problems); }
  if (!v.lab(labData)) {
    throw new LabDefinitionError(ajvProblems(labRel, v.lab.errors));
  }
  const labFile = labData as {
    id: string; title: LabDefinition['title']; images: Record<string, string>;
    clusterStoreMaxDockerMajor: number; chapters: string[]; reset: Action[];
  };
  const chapters: ChapterDefinition[] = [];
  let schemaOk = true;
  for (const name of labFile.chapters) {
    const rel = `${base}/${name}`;
    const abs = path.join(dir, name);
    const data = readJson(abs, rel, problems);
    if (data === undefined) { schemaOk = false; continue; }
    if (!v.chapter(data)) { schemaOk = false; problems.push(...ajvProblems(rel, v.chapter.errors)); continue; }
    const ch = data as Omit<ChapterDefinition, 'file'>;
    if (`${ch.id}.json` !== name) {
      problems.push({ file: rel, pointer: '/id', message: `must equal the file name without .json ("${name.replace(/\.json$/, '')}")` });
    }
    chapters.push({ id: ch.id, title: ch.title, nodes: ch.nodes, steps: ch.steps, file: abs });
  }
  if (schemaOk) { problems.push(...crossCheck(dir, base, labFile.images, chapters, labFile.reset)); }
  if (problems.length > 0) { throw new LabDefinitionError(problems); }
  return {
    id: labFile.id,
    title: labFile.title,
    dir,
    images: labFile.images,
    clusterStoreMaxDockerMajor: labFile.clusterStoreMaxDockerMajor,
    chapters,
    reset: labFile.reset,
  };
}

function crossCheck(dir: string, base: string, images: Record<string, string>, chapters: ChapterDefinition[], reset: readonly Action[]): LabProblem[] {
  const problems: LabProblem[] = [];
  const order = new Map<string, number>();
  const allIds: string[] = [];
  for (const ch of chapters) { for (const s of ch.steps) { allIds.push(s.id); } }
  const captured = new Set<string>();
  let index = 0;
  for (const ch of chapters) {
    const rel = `${base}/${path.basename(ch.file)}`;
    ch.steps.forEach((step, si) => {
      const sp = `/steps/${si}`;
      if (order.has(step.id)) { problems.push({ file: rel, pointer: `${sp}/id`, message: `"${step.id}" is used twice` }); }
      order.set(step.id, index++);
      step.prerequisites.forEach((p, i) => {
        const at = order.get(p);
        if (at === undefined || p === step.id) {
          problems.push({ file: rel, pointer: `${sp}/prerequisites/${i}`, message: `"${p}" is not an earlier step` });
        }
      });
      step.supersededBy.forEach((p, i) => {
        if (!allIds.includes(p) || order.has(p)) {
          problems.push({ file: rel, pointer: `${sp}/supersededBy/${i}`, message: `"${p}" is not a later step` });
        }
      });
      checkStepTemplates(dir, rel, sp, step, images, captured, problems);
    });
  }
  reset.forEach((a, i) => checkAction(dir, `${base}/lab.json`, `/reset/${i}`, a, images, captured, problems));
  return problems;
}

function checkStepTemplates(dir: string, rel: string, sp: string, step: StepDefinition, images: Record<string, string>,
  captured: Set<string>, problems: LabProblem[]): void {
  step.probe.forEach((c, i) => checkCheck(rel, `${sp}/probe/${i}`, c, images, captured, problems));
  step.prepare.forEach((a, i) => checkAction(dir, rel, `${sp}/prepare/${i}`, a, images, captured, problems));
  step.run.forEach((a, i) => checkAction(dir, rel, `${sp}/run/${i}`, a, images, captured, problems));
  if (step.expectFailure !== undefined) {
    checkTemplate(rel, `${sp}/expectFailure/run`, step.expectFailure.run, 'shell', images, captured, problems);
    checkRegex(rel, `${sp}/expectFailure/output`, step.expectFailure.output, problems);
  }
  step.verify.forEach((c, i) => checkCheck(rel, `${sp}/verify/${i}`, c, images, captured, problems));
  step.cleanup.forEach((a, i) => checkAction(dir, rel, `${sp}/cleanup/${i}`, a, images, captured, problems));
}

function checkAction(dir: string, rel: string, p: string, a: Action, images: Record<string, string>, captured: Set<string>, problems: LabProblem[]): void {
  if (isBuiltin(a)) { return; }
  checkTemplate(rel, `${p}/run`, a.run, 'shell', images, captured, problems);
  checkExpect(rel, p, a.expect, problems);
  checkRegex(rel, `${p}/retry/onOutput`, a.retry?.onOutput, problems);
  if (a.retry?.undo !== undefined) { checkTemplate(rel, `${p}/retry/undo`, a.retry.undo, 'shell', images, captured, problems); }
  if (a.capture !== undefined) { checkRegex(rel, `${p}/capture/regex`, a.capture.regex, problems); captured.add(a.capture.name); }
  if (a.stdinFile !== undefined && !fs.existsSync(path.join(dir, a.stdinFile))) {
    problems.push({ file: rel, pointer: `${p}/stdinFile`, message: `names a file that does not exist in the lab directory` });
  }
}

function checkCheck(rel: string, p: string, c: Check, images: Record<string, string>, captured: Set<string>, problems: LabProblem[]): void {
  if (c.kind === 'http') {
    checkTemplate(rel, `${p}/url`, c.url, 'plain', images, captured, problems);
    checkRegex(rel, `${p}/body`, c.body, problems);
  } else if (c.kind === 'command') {
    checkTemplate(rel, `${p}/run`, c.run, 'shell', images, captured, problems);
    checkExpect(rel, p, c.expect, problems);
  } else {
    checkTemplate(rel, `${p}/name`, c.name, 'plain', images, captured, problems);
    for (const [k, re] of Object.entries(c.match ?? {})) { checkRegex(rel, `${p}/match/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, re, problems); }
  }
  if ('capture' in c && c.capture !== undefined) { checkRegex(rel, `${p}/capture/regex`, c.capture.regex, problems); captured.add(c.capture.name); }
}

function checkExpect(rel: string, p: string, e: Expectation | undefined, problems: LabProblem[]): void {
  if (e === undefined) { return; }
  checkRegex(rel, `${p}/expect/stdout`, e.stdout, problems);
  checkRegex(rel, `${p}/expect/stdoutNot`, e.stdoutNot, problems);
  checkRegex(rel, `${p}/expect/stderr`, e.stderr, problems);
  checkRegex(rel, `${p}/expect/output`, e.output, problems);
}

function checkRegex(rel: string, p: string, re: string | undefined, problems: LabProblem[]): void {
  if (re === undefined) { return; }
  try { new RegExp(re, 'm'); } catch (e) { problems.push({ file: rel, pointer: p, message: `is not a valid regex: ${(e as Error).message}` }); }
}

function checkTemplate(rel: string, p: string, t: string, mode: 'shell' | 'plain', images: Record<string, string>, captured: Set<string>, problems: LabProblem[]): void {
  for (const m of lintTemplate(t, mode)) { problems.push({ file: rel, pointer: p, message: m }); }
  for (const ph of t.matchAll(/\{\{\s*(images|cap)\.([A-Za-z0-9_-]+)\s*\}\}/g)) {
    const [, root, key] = ph;
    if (root === 'images' && images[key ?? ''] === undefined) { problems.push({ file: rel, pointer: p, message: `uses {{images.${key ?? ''}}}, which lab.json does not define` }); }
    if (root === 'cap' && !captured.has(key ?? '')) { problems.push({ file: rel, pointer: p, message: `uses {{cap.${key ?? ''}}}, which no earlier command captures` }); }
  }
}

/**
 * Finds the labs directory that ships with the code: walks up from `start` (default: this module's
 * directory) to the first folder holding `labs/<labId>/lab.json`.
 * @throws LabError `NotFound` when there is none.
 */
export function defaultLabDir(labId = 'docker-networking', start: string = __dirname): string {
  let d = path.resolve(start);
  for (;;) {
    const candidate = path.join(d, 'labs', labId);
    if (fs.existsSync(path.join(candidate, 'lab.json'))) { return candidate; }
    const up = path.dirname(d);
    if (up === d) { throw new LabError('NotFound', `The lab "${labId}" is not installed next to the program (no labs/${labId}/lab.json found).`); }
    d = up;
  }
}
