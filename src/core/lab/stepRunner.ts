import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError, describeError, isLabError, throwIfAborted } from '../errors';
import type { Logger } from '../logger';
import { redact, registerSecret, silentLogger } from '../logger';
import type { ExecResult, RemoteShell, ShellProvider } from '../remoteShell';
import { quoteUserText } from '../util/displayText';
import { shellQuote } from '../util/shellQuote';
import type {
  Action, BuiltinAction, Capture, Check, CommandAction, Condition, Expectation, LabDefinition, LocalizedText,
  NodeRole, OverlayPath, Retry, StepDefinition,
} from './labDefinition';
import { allSteps, findStep, isBuiltin, isSecretCapture, secretCaptureNames } from './labDefinition';
import type { NodeFacts } from './labFacts';
import { etcdApiOf, gatherNodeFacts, inDockerMajorRange } from './labFacts';
import type { OverlayPathDecision } from './overlayPathDecision';
import { decideOverlayPath } from './overlayPathDecision';
import { kernelAtLeast, kernelPlan, minimumKernel } from './kernelPlan';
import type { ProgressStore } from './progressStore';
import { lastPassedRun } from './progressStore';
import type { TemplateVars } from './template';
import { renderTemplate, validateCapture } from './template';

/** Kinds of {@link RunEvent}. */
export type RunEventType = 'step' | 'command' | 'stdout' | 'stderr' | 'info' | 'result';

/**
 * What the runner reports while it works, in order. `command` carries the exact command line (already
 * filled in) before it runs; `stdout`/`stderr` are raw chunks; `result` ends a step with its status.
 */
export interface RunEvent {
  readonly type: RunEventType;
  /** The node concerned (configured name), when there is one. */
  readonly node?: string;
  /** The step concerned. */
  readonly stepId?: string;
  readonly text: string;
  /** For `result` events. */
  readonly status?: StepStatus;
  /** For `command` events: the command needs root (it runs through sudo on a non-root node configured with `sudo: true`). */
  readonly sudo?: boolean;
}

/** Outcome of a step. `skipped` = does not apply to the chosen variant; `cancelled` = declined or aborted. */
export type StepStatus = 'passed' | 'failed' | 'skipped' | 'cancelled';

/** One verification's outcome. */
export interface CheckOutcome {
  readonly node: string;
  /** What it proves (the check's `describe`, or its command). */
  readonly describe: string;
  readonly ok: boolean;
  /** Why it failed (empty when ok). */
  readonly detail: string;
}

/** The outcome of running or verifying one step. */
export interface StepResult {
  readonly stepId: string;
  readonly status: StepStatus;
  /** One sentence for the user. */
  readonly message: string;
  /** The probe found the state already in place, so the step's commands were not run again. */
  readonly alreadyInPlace?: boolean;
  /** `verify` relied on the recorded pass because this later step replaced the state. */
  readonly supersededBy?: string;
  /** For steps that teach by failing: whether it failed as described, and why it does. */
  readonly expectedFailure?: { readonly observed: boolean; readonly explanation: LocalizedText };
  readonly checks: readonly CheckOutcome[];
  readonly durationMs: number;
}

/** A request to confirm something that changes the nodes. */
export interface ConfirmRequest {
  readonly kind: 'step' | 'kernel' | 'reset';
  readonly stepId?: string;
  /** One line describing what will happen. */
  readonly title: string;
  /**
   * The exact commands (filled in where the values are known; `<cap.x>` where captured later); `sudo`: it
   * needs root (see {@link RunEvent.sudo}).
   */
  readonly commands: readonly PlannedCommand[];
  readonly notes?: readonly string[];
}

/** One command a confirmation shows: where it runs, the line, and whether it needs root. */
export interface PlannedCommand {
  readonly node: string;
  readonly command: string;
  /** Runs as root (through sudo where the node needs it). */
  readonly sudo?: boolean;
}

/** Facts of both nodes plus the overlay path in force. */
export interface LabFacts {
  /** node1, node2 (as many as configured, at least one). */
  readonly nodes: readonly NodeFacts[];
  readonly overlayPath: OverlayPath;
  /** Where the overlay path came from: the learner's persisted choice / option, or the Docker version. */
  readonly overlayPathSource: 'choice' | 'docker-version';
  /** The whole decision, with its one-sentence reason (see {@link decideOverlayPath}). */
  readonly overlayPathDecision: OverlayPathDecision;
}

/** Options of {@link StepRunner}. */
export interface StepRunnerOptions {
  readonly lab: LabDefinition;
  readonly shells: ShellProvider;
  readonly progress: ProgressStore;
  /** Configured host of each node (node name → host); used as its IP when it is an IPv4 literal. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Receives every event (see {@link RunEvent}). */
  readonly onEvent?: (e: RunEvent) => void;
  /** Asked before destructive steps, kernel plans and reset. Without it these are declined. */
  readonly confirm?: (req: ConfirmRequest) => Promise<boolean>;
  /**
   * Overlay path asked for this runner (overrides the persisted choice without changing it): taken where the nodes
   * allow it; cluster-store on Docker 23+ is refused (see {@link decideOverlayPath}).
   */
  readonly overlayPath?: OverlayPath;
  readonly logger?: Logger;
  /** Waits (tests pass a fast one). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Longest wait for a rebooting node to come back, in ms (default 15 minutes). */
  readonly rebootTimeoutMs?: number;
  /** The kernel from which the kernel step plans no upgrade (default: the overlay's {@link minimumKernel}). */
  readonly minimumKernel?: readonly [number, number];
}

/** Options of one run. */
export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Run even when a prerequisite has not passed. */
  readonly ignorePrerequisites?: boolean;
}

const defaultTimeoutMs = 120_000;

/** A Docker swarm join token (`docker swarm init` prints one before any step could capture it). */
const swarmTokenRe = /SWMTKN-\d+-[A-Za-z0-9]+-[A-Za-z0-9]+/g;

/** Text with every registered secret (see `redact`) and every swarm join token replaced by `***`. */
export function maskSecrets(text: string): string {
  return redact(text).replace(swarmTokenRe, '***');
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(new LabError('Cancelled', 'The operation was cancelled.')); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(new LabError('Cancelled', 'The operation was cancelled.')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Evaluates a {@link Condition} for a node. Pure. */
export function conditionHolds(c: Condition | undefined, facts: NodeFacts, overlayPath: OverlayPath, ignoreOverlayPath = false): boolean {
  if (c === undefined) { return true; }
  if (c.overlayPath !== undefined && !ignoreOverlayPath && c.overlayPath !== overlayPath) { return false; }
  if (c.labDockerd !== undefined && c.labDockerd !== facts.labDockerd) { return false; }
  if (c.firewall !== undefined && !c.firewall.includes(facts.firewall)) { return false; }
  if (c.etcdApi !== undefined && c.etcdApi !== etcdApiOf(facts.etcdVersion)) { return false; }
  if (c.etcdInstalled !== undefined && c.etcdInstalled !== (facts.etcdVersion !== '')) { return false; }
  if (c.dockerMajor !== undefined && !inDockerMajorRange(c.dockerMajor, facts.dockerVersion)) { return false; }
  return true;
}

/**
 * Why an outcome misses an expectation, or `undefined` when it meets it. Default expectation: exit 0.
 * Pure.
 */
export function unmetExpectation(e: Expectation | undefined, r: ExecResult): string | undefined {
  const want = e?.exitCode ?? 0;
  if (want === 'nonzero' ? r.code === 0 : r.code !== want) {
    return `exit code ${r.code === null ? `signal ${r.signal ?? '?'}` : String(r.code)}, expected ${String(want)}`;
  }
  const test = (re: string | undefined, text: string, what: string, negate = false): string | undefined => {
    if (re === undefined) { return undefined; }
    const hit = new RegExp(re, 'm').test(text);
    if (hit === negate) { return `${what} ${negate ? 'matches' : 'does not match'} /${re}/`; }
    return undefined;
  };
  return test(e?.stdout, r.stdout.trimEnd(), 'stdout')
    ?? test(e?.stdoutNot, r.stdout, 'stdout', true)
    ?? test(e?.stderr, r.stderr, 'stderr')
    ?? test(e?.output, `${r.stdout}\n${r.stderr}`, 'output');
}

/** Value at a dotted path of a JSON value (`State.Running`), JSON-stringified unless a string. */
export function valueAtPath(doc: unknown, dotted: string): string | undefined {
  let cur: unknown = doc;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(key in cur)) { return undefined; }
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

/** The fix shown when an explicit cluster-store path is refused (see {@link OverlayPathDecision.refusal}). */
export const clusterStoreRefusalFix = 'Choose the swarm path: "docker-net-lab run --all --path swarm" (or pick the swarm path in the Steps view), or leave the path out: these nodes take it by themselves.';

/**
 * Runs and verifies the steps of a lab on the configured nodes through a {@link ShellProvider}.
 *
 * Contract (see docs/guided-lab.md): every command is announced (`command` event, node named) and its
 * output streamed; a step whose probe finds its state in place skips its commands and only verifies;
 * stale state is removed by the step's `prepare` commands, so running a step twice succeeds; outcomes
 * and captured values are saved in the {@link ProgressStore} at once. Cancellation: the `signal` of
 * {@link RunOptions}; a cancelled step resolves with status `cancelled` (nothing recorded).
 */
export class StepRunner {
  private readonly lab: LabDefinition;
  private readonly shells: ShellProvider;
  private readonly progress: ProgressStore;
  private readonly emit: (e: RunEvent) => void;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly log: Logger;
  private factsCache: LabFacts | undefined;
  /** Captured values marked secret (see {@link isSecretCapture}): kept here only, never in the progress file. */
  private readonly secrets = new Map<string, string>();

  constructor(private readonly options: StepRunnerOptions) {
    this.lab = options.lab;
    this.shells = options.shells;
    this.progress = options.progress;
    const onEvent = options.onEvent ?? ((): void => undefined);
    // every text shown (commands, output, messages) goes out with the secrets masked (captures marked secret, passwords)
    this.emit = (e) => { onEvent({ ...e, text: maskSecrets(e.text) }); };
    // files written before captures could be secret may hold one: it goes now
    for (const name of secretCaptureNames(this.lab)) { this.progress.forgetCapture(name); }
    this.sleep = options.sleep ?? defaultSleep;
    this.log = options.logger ?? silentLogger;
  }

  /** Forgets cached node facts (after a node changed: reboot, dockerd restart, other nodes). */
  invalidateFacts(): void {
    this.factsCache = undefined;
  }

  /**
   * Gathers (once, then cached) the facts of the configured nodes and decides the overlay path.
   * @throws LabError connection errors of the shell provider; `InvalidInput` with no nodes.
   */
  async facts(signal?: AbortSignal): Promise<LabFacts> {
    if (this.factsCache !== undefined) { return this.factsCache; }
    const names = this.shells.nodeNames();
    if (names.length === 0) { throw new LabError('InvalidInput', 'No nodes are configured.'); }
    const nodes: NodeFacts[] = [];
    for (const name of names.slice(0, 2)) {
      const sh = await this.shells.shell(name, signal);
      nodes.push(await gatherNodeFacts(sh, this.options.hosts?.[name] ?? name, signal));
    }
    const saved = this.progress.progress.overlayPath;
    const decision = decideOverlayPath({
      nodes, clusterStoreMaxDockerMajor: this.lab.clusterStoreMaxDockerMajor,
      ...(this.options.overlayPath === undefined ? {} : { explicit: this.options.overlayPath }),
      ...(saved === undefined ? {} : { saved }),
    });
    this.factsCache = { nodes, overlayPath: decision.path, overlayPathSource: decision.source, overlayPathDecision: decision };
    this.log.debug(`lab facts: ${JSON.stringify(this.factsCache)}`);
    return this.factsCache;
  }

  /** Persists the learner's overlay path choice (`undefined`: back to automatic) and re-reads facts next time. */
  setOverlayPath(p: OverlayPath | undefined): void {
    this.progress.setOverlayPath(p);
    this.invalidateFacts();
  }

  private nodeFor(facts: LabFacts, role: 'node1' | 'node2'): NodeFacts {
    const n = facts.nodes[role === 'node1' ? 0 : 1];
    if (n === undefined) {
      throw new LabError('InvalidInput', `This step needs a second node, but only ${facts.nodes.length} is configured.`, {
        fix: 'Configure two nodes (the local lab has docker-node1 and docker-node2).',
      });
    }
    return n;
  }

  private targets(facts: LabFacts, role: NodeRole): NodeFacts[] {
    return role === 'both' ? [this.nodeFor(facts, 'node1'), this.nodeFor(facts, 'node2')] : [this.nodeFor(facts, role)];
  }

  /** Template variables for commands run on `self`. */
  vars(facts: LabFacts, self: NodeFacts): TemplateVars {
    const v: Record<string, string> = {
      overlayPath: facts.overlayPath,
      dockerVersion: self.dockerVersion,
      'lab.id': this.lab.id,
    };
    const put = (prefix: string, n: NodeFacts | undefined): void => {
      if (n === undefined) { return; }
      v[`${prefix}.ip`] = n.ip;
      v[`${prefix}.name`] = n.name;
      v[`${prefix}.hostname`] = n.hostname;
      v[`${prefix}.dockerVersion`] = n.dockerVersion;
    };
    put('node1', facts.nodes[0]);
    put('node2', facts.nodes[1]);
    put('self', self);
    put('other', facts.nodes.find((n) => n.name !== self.name));
    for (const [k, img] of Object.entries(this.lab.images)) { v[`images.${k}`] = img; }
    for (const [k, val] of Object.entries(this.progress.progress.captures)) { v[`cap.${k}`] = val; }
    for (const [k, val] of this.secrets) { v[`cap.${k}`] = val; }
    return v;
  }

  private async shell(node: string, signal?: AbortSignal): Promise<RemoteShell> {
    return this.shells.shell(node, signal);
  }

  /** True when `text` holds the value of a secret capture. */
  private hasSecret(text: string): boolean {
    for (const v of this.secrets.values()) { if (text.includes(v)) { return true; } }
    return false;
  }

  /**
   * Runs one command line on a node, announcing it and streaming its output line by line. A command that uses a secret
   * capture, or whose output is one (`secretOutput`), is not streamed in chunks (a secret split across two
   * chunks would escape the mask): its whole output is shown, masked, when it ends.
   */
  private async exec(stepId: string | undefined, node: string, command: string,
    opts: { signal?: AbortSignal; stdin?: string; timeoutMs?: number; echo?: boolean; stream?: boolean; secretOutput?: boolean; sudo?: boolean }): Promise<ExecResult> {
    throwIfAborted(opts.signal);
    const sh = await this.shell(node, opts.signal);
    if (opts.echo !== false) { this.emit({ type: 'command', node, stepId, text: command, ...(opts.sudo === true ? { sudo: true } : {}) }); }
    const whole = opts.stream !== false && (opts.secretOutput === true || this.hasSecret(command));
    // streamed output goes out in whole lines, so a secret is never split across two events (and escapes the mask)
    const lines = (type: 'stdout' | 'stderr'): { push: (t: string) => void; end: () => void } => {
      let carry = '';
      return {
        push: (t) => {
          carry += t;
          const nl = carry.lastIndexOf('\n');
          if (nl >= 0) { this.emit({ type, node, stepId, text: carry.slice(0, nl + 1) }); carry = carry.slice(nl + 1); }
        },
        end: () => { if (carry !== '') { this.emit({ type, node, stepId, text: carry }); carry = ''; } },
      };
    };
    const out = lines('stdout');
    const err = lines('stderr');
    let r: ExecResult;
    try {
      r = await sh.exec(command, {
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
        ...(opts.sudo === true ? { sudo: true } : {}),
        timeoutMs: opts.timeoutMs ?? defaultTimeoutMs,
        ...(opts.stream === false || whole ? {} : { onStdout: out.push, onStderr: err.push }),
      });
    } finally {
      out.end();
      err.end();
    }
    if (whole) {
      if (opts.secretOutput === true) { this.emit({ type: 'info', node, stepId, text: '(output hidden: it is a secret)' }); } else {
        if (r.stdout !== '') { this.emit({ type: 'stdout', node, stepId, text: r.stdout }); }
        if (r.stderr !== '') { this.emit({ type: 'stderr', node, stepId, text: r.stderr }); }
      }
    }
    return r;
  }

  private capture(c: Capture | undefined, text: string): void {
    if (c === undefined) { return; }
    let raw = text.trim();
    if (c.regex !== undefined) {
      const m = new RegExp(c.regex, 'm').exec(text);
      if (m === null) { throw new LabError('StepFailed', `Could not find ${c.name} in the output (/${c.regex}/).`); }
      raw = m[1] ?? m[0];
    }
    const value = validateCapture(raw, c.type, c.name);
    if (isSecretCapture(c)) {
      registerSecret(value);
      this.secrets.set(c.name, value);
      return;
    }
    this.progress.setCapture(c.name, value);
  }

  /**
   * Runs `attempt` until it is ok, at most `retry.attempts` times, `retry.delayMs` apart. `again` decides
   * whether a failed attempt may be retried (default: always); `between` runs before each new attempt.
   */
  private async withRetry<T extends { ok: boolean }>(retry: Retry | undefined, signal: AbortSignal | undefined, attempt: () => Promise<T>,
    again: (failed: T, next: number) => boolean = () => true, between?: () => Promise<void>): Promise<T> {
    const attempts = retry?.attempts ?? 1;
    let last: T | undefined;
    for (let i = 1; i <= attempts; i++) {
      last = await attempt();
      if (last.ok || i === attempts || !again(last, i + 1)) { return last; }
      await this.sleep(retry?.delayMs ?? 0, signal);
      await between?.();
    }
    return last as T;
  }

  /** Whether a failed command is tried again (`retry.onOutput` limits that to one known transient error); says so. */
  private retryCommand(stepId: string, self: NodeFacts, retry: Retry | undefined, res: ExecResult, next: number): boolean {
    if (retry?.onOutput === undefined) { return true; }
    if (!new RegExp(retry.onOutput, 'm').test(`${res.stdout}\n${res.stderr}`)) { return false; }
    this.emit({ type: 'info', node: self.name, stepId, text: `Output matches /${retry.onOutput}/: trying again in ${retry.delayMs} ms (attempt ${next} of ${retry.attempts}).` });
    return true;
  }

  /** Runs one command action on one node. Returns a failure reason, or undefined. */
  private async runCommand(stepId: string, facts: LabFacts, self: NodeFacts, a: CommandAction, signal?: AbortSignal): Promise<string | undefined> {
    const stdin = a.stdinFile === undefined ? undefined : fs.readFileSync(path.join(this.lab.dir, a.stdinFile), 'utf8');
    const r = await this.withRetry(a.retry, signal, async () => {
      const cmd = renderTemplate(a.run, this.vars(facts, self));
      const res = await this.exec(stepId, self.name, cmd, {
        ...(signal === undefined ? {} : { signal }),
        ...(stdin === undefined ? {} : { stdin }),
        ...(a.timeoutMs === undefined ? {} : { timeoutMs: a.timeoutMs }),
        ...(a.capture !== undefined && isSecretCapture(a.capture) ? { secretOutput: true } : {}),
        ...(a.sudo === true ? { sudo: true } : {}),
      });
      const why = unmetExpectation(a.expect, res);
      return { ok: why === undefined, why, res, cmd };
    }, (failed, next) => this.retryCommand(stepId, self, a.retry, failed.res, next), a.retry?.undo === undefined ? undefined : async () => {
      await this.exec(stepId, self.name, renderTemplate(a.retry?.undo ?? '', this.vars(facts, self)), { ...(signal === undefined ? {} : { signal }), ...(a.sudo === true ? { sudo: true } : {}) });
    });
    throwIfAborted(signal);
    if (!r.ok) {
      if (a.allowFailure === true) {
        this.emit({ type: 'info', node: self.name, stepId, text: `(ignored: ${r.why ?? ''})` });
        return undefined;
      }
      return `${self.name}: "${r.cmd}" failed: ${r.why ?? ''}${tail(r.res)}`;
    }
    this.capture(a.capture, r.res.stdout);
    return undefined;
  }

  private async runActions(step: StepDefinition, facts: LabFacts, actions: readonly Action[], signal?: AbortSignal,
    ignoreOverlayPath = false): Promise<string | undefined> {
    for (const a of actions) {
      for (const self of this.targets(facts, a.on ?? step.nodes)) {
        if (!conditionHolds(a.when, self, facts.overlayPath, ignoreOverlayPath)) { continue; }
        const why = isBuiltin(a)
          ? await this.runBuiltin(step, facts, self, a, signal)
          : await this.runCommand(step.id, facts, self, a, signal);
        if (why !== undefined) { return why; }
      }
    }
    return undefined;
  }

  /** Runs one check on its node(s); returns one outcome per node. */
  async runCheck(step: StepDefinition, facts: LabFacts, c: Check, signal?: AbortSignal, echo = true): Promise<CheckOutcome[]> {
    const role = c.kind === 'http' ? c.from : (c.on ?? step.nodes);
    const out: CheckOutcome[] = [];
    for (const self of this.targets(facts, role)) {
      if (!conditionHolds(c.when, self, facts.overlayPath)) { continue; }
      const r = await this.withRetry(c.retry, signal, () => this.checkOnce(step.id, facts, self, c, signal, echo));
      if (r.ok && 'capture' in c && c.capture !== undefined) { this.capture(c.capture, r.captureText); }
      const describe = c.describe ?? r.what;
      if (echo) { this.emit({ type: 'info', node: self.name, stepId: step.id, text: checkLine(describe, r) }); }
      throwIfAborted(signal);
      if (!r.ok && r.output !== '') { this.log.debug(maskSecrets(`check "${describe}" on ${self.name} failed; its output:\n${r.output}`)); }
      out.push({ node: self.name, describe, ok: r.ok, detail: r.ok ? '' : r.detail });
    }
    return out;
  }

  private async checkOnce(stepId: string, facts: LabFacts, self: NodeFacts, c: Check, signal: AbortSignal | undefined, echo: boolean): Promise<CheckAttempt> {
    const vars = this.vars(facts, self);
    // checks do not stream their output (a docker inspect is pages of JSON): runCheck prints one line per check
    const so = { ...(signal === undefined ? {} : { signal }), timeoutMs: 60_000, echo, stream: false };
    if (c.kind === 'command') {
      const cmd = renderTemplate(c.run, vars);
      const r = await this.exec(stepId, self.name, cmd, { ...so, ...(c.sudo === true ? { sudo: true } : {}) });
      const why = unmetExpectation(c.expect, r);
      return { ok: why === undefined, detail: `${why ?? ''}${tail(r)}`, what: cmd, captureText: r.stdout, output: outputOf(r), found: firstLine(r) };
    }
    if (c.kind === 'http') {
      const url = renderTemplate(c.url, vars, 'plain');
      const cmd = `curl -sS -m 5 -w '\\n%{http_code}' ${shellQuote(url)}`;
      const r = await this.exec(stepId, self.name, cmd, so);
      const lines = r.stdout.replace(/\n$/, '').split('\n');
      const status = Number(lines.pop() ?? '0');
      const body = lines.join('\n');
      const want = c.status ?? 200;
      const seen = { what: `GET ${url}`, captureText: body, output: outputOf(r), found: `HTTP ${status}${body.trim() === '' ? '' : `: ${firstLine({ stdout: body, stderr: '' })}`}` };
      if (r.code !== 0 || status !== want) {
        return { ok: false, detail: `GET ${url} from ${self.name}: ${r.code !== 0 ? `curl exit ${String(r.code)} ${r.stderr.trim()}` : `HTTP ${status}, expected ${want}`}`, ...seen };
      }
      if (c.body !== undefined && !new RegExp(c.body, 'm').test(body)) {
        return { ok: false, detail: `GET ${url}: the body does not match /${c.body}/ (${excerpt(body, 3, 400)})`, ...seen };
      }
      return { ok: true, detail: '', ...seen };
    }
    const name = renderTemplate(c.name, vars, 'plain');
    const cmd = `docker ${c.object} inspect ${shellQuote(name)}`;
    const r = await this.exec(stepId, self.name, cmd, { ...so, echo: false });
    if (echo) { this.emit({ type: 'command', node: self.name, stepId, text: cmd }); }
    const what = `${c.object} ${name}${c.exists === false ? ' does not exist' : ''}`;
    const none = { what, captureText: '', output: r.code === 0 ? '' : outputOf(r) };
    if (c.exists === false) {
      return r.code !== 0 ? { ok: true, detail: '', found: 'not found', ...none } : { ok: false, detail: `${c.object} ${name} exists on ${self.name}`, found: 'exists', ...none };
    }
    if (r.code !== 0) { return { ok: false, detail: `${c.object} ${name} not found on ${self.name}${tail(r)}`, found: 'not found', ...none }; }
    let doc: unknown;
    try { doc = (JSON.parse(r.stdout) as unknown[])[0]; } catch { return { ok: false, detail: `docker inspect printed no JSON${tail(r)}`, found: '', ...none, output: outputOf(r) }; }
    const bad: string[] = [];
    for (const [p, reT] of Object.entries(c.match ?? {})) {
      const re = renderTemplate(reT, vars, 'plain');
      const val = valueAtPath(doc, p);
      if (val === undefined || !new RegExp(re, 'm').test(val)) { bad.push(`${p} = ${val ?? '(missing)'} (want /${re}/)`); }
    }
    const found = Object.keys(c.match ?? {}).map((k) => `${k}=${valueAtPath(doc, k) ?? '(missing)'}`).join(' ');
    return { ok: bad.length === 0, detail: bad.length === 0 ? '' : `${c.object} ${name} on ${self.name}: ${bad.join('; ')}`, what, captureText: '', output: '', found };
  }

  private async runChecks(step: StepDefinition, facts: LabFacts, checks: readonly Check[], signal?: AbortSignal, echo = true): Promise<CheckOutcome[]> {
    const out: CheckOutcome[] = [];
    for (const c of checks) {
      const r = await this.runCheck(step, facts, c, signal, echo);
      out.push(...r);
      if (r.some((x) => !x.ok)) { break; }
    }
    return out;
  }

  /** The commands of a step's prepare + run actions, filled in as far as known (for confirmations and display). */
  async plannedCommands(stepId: string, signal?: AbortSignal): Promise<PlannedCommand[]> {
    const ref = this.requireStep(stepId);
    const facts = await this.facts(signal);
    const out: PlannedCommand[] = [];
    for (const a of [...ref.step.prepare, ...ref.step.run]) {
      for (const self of this.targets(facts, a.on ?? ref.step.nodes)) {
        if (!conditionHolds(a.when, self, facts.overlayPath)) { continue; }
        out.push(isBuiltin(a)
          ? { node: self.name, command: `(${a.builtin}: shown and confirmed separately)` }
          : { node: self.name, command: this.preview(a.run, facts, self), ...(a.sudo === true ? { sudo: true } : {}) });
      }
    }
    return out;
  }

  private preview(template: string, facts: LabFacts, self: NodeFacts): string {
    const vars: Record<string, string> = { ...this.vars(facts, self) };
    for (const m of template.matchAll(/\{\{\s*(cap\.[A-Za-z0-9_]+)\s*\}\}/g)) {
      const k = m[1] ?? '';
      if (vars[k] === undefined) { vars[k] = `CAPTURED_${k.slice(4)}`; }
    }
    return renderTemplate(template, vars);
  }

  private requireStep(id: string): NonNullable<ReturnType<typeof findStep>> {
    const ref = findStep(this.lab, id);
    if (ref === undefined) { throw new LabError('NotFound', `There is no step "${quoteUserText(id)}" in the lab "${this.lab.id}".`); }
    return ref;
  }

  /**
   * Ends a step: reports the result and, when `record` says who produced it, records it. Only the step's own
   * record changes. A run that passed sets `ranAt` (the order of runs that "replaced by" relations use); a
   * verification keeps the `ranAt` the record had; a failed run removes it. Cancelled results are never recorded.
   */
  private finish(step: StepDefinition, raw: Omit<StepResult, 'stepId'>, facts: LabFacts | undefined, record: false | 'run' | 'verify'): StepResult {
    const r = { ...raw, message: maskSecrets(raw.message), checks: raw.checks.map((c) => ({ ...c, describe: maskSecrets(c.describe), detail: maskSecrets(c.detail) })) };
    const result: StepResult = { stepId: step.id, ...r };
    if (record !== false && r.status !== 'cancelled') {
      const now = new Date().toISOString();
      const ranAt = record === 'run' ? (r.status === 'passed' ? now : undefined) : lastPassedRun(this.progress.step(step.id));
      this.progress.recordStep(step.id, {
        status: r.status,
        at: now,
        ...(ranAt === undefined ? {} : { ranAt }),
        durationMs: r.durationMs,
        ...(facts === undefined ? {} : { overlayPath: facts.overlayPath }),
        message: r.message,
        ...(r.expectedFailure === undefined ? {} : { expectedFailureObserved: r.expectedFailure.observed }),
      });
    }
    this.emit({ type: 'result', stepId: step.id, status: r.status, text: r.message });
    return result;
  }

  /**
   * Runs one step: applies-to check, prerequisites, probe, confirmation (destructive), prepare + run,
   * expected failure, verification; records the outcome.
   * @throws LabError `NotFound` for an unknown step id. Other failures resolve as a `failed` result.
   */
  async runStep(id: string, opts: RunOptions = {}): Promise<StepResult> {
    const { step } = this.requireStep(id);
    const t0 = Date.now();
    const ms = (): number => Date.now() - t0;
    const signal = opts.signal;
    let facts: LabFacts | undefined;
    try {
      facts = await this.facts(signal);
      this.emit({ type: 'step', stepId: id, text: step.title.en });
      const node1 = this.nodeFor(facts, 'node1');
      if (!conditionHolds(step.when, node1, facts.overlayPath)) {
        return this.finish(step, { status: 'skipped', message: `Does not apply on the ${facts.overlayPath} path.`, checks: [], durationMs: ms() }, facts, 'run');
      }
      const refusal = step.when?.overlayPath === 'cluster-store' ? facts.overlayPathDecision.refusal : undefined;
      if (refusal !== undefined) {
        return this.finish(step, { status: 'failed', message: `${refusal} ${clusterStoreRefusalFix}`, checks: [], durationMs: ms() }, facts, false);
      }
      if (opts.ignorePrerequisites !== true) {
        const applies = (p: string): boolean => conditionHolds(findStep(this.lab, p)?.step.when, node1, facts?.overlayPath ?? 'swarm');
        const missing = step.prerequisites.filter((p) => applies(p) && !['passed', 'skipped'].includes(this.progress.step(p)?.status ?? ''));
        if (missing.length > 0) {
          return this.finish(step, { status: 'failed', message: `Run ${missing.join(', ')} first.`, checks: [], durationMs: ms() }, facts, false);
        }
      }
      let inPlace = false;
      if (step.probe.length > 0) {
        const probe = await this.runChecks(step, facts, step.probe, signal, false);
        inPlace = probe.every((p) => p.ok) && probe.length > 0;
        if (inPlace) { this.emit({ type: 'info', stepId: id, text: 'Already in place: skipping to verification.' }); }
      }
      if (!inPlace) {
        if (step.destructive) {
          const ok = await this.ask({ kind: 'step', stepId: id, title: `${step.title.en}: this changes the nodes.`, commands: await this.plannedCommands(id, signal) });
          if (!ok) {
            return this.finish(step, { status: 'cancelled', message: 'Not confirmed: nothing was changed.', checks: [], durationMs: ms() }, facts, false);
          }
        }
        const why = await this.runActions(step, facts, [...step.prepare, ...step.run], signal);
        if (why !== undefined) {
          return this.finish(step, { status: 'failed', message: why, checks: [], durationMs: ms() }, facts, 'run');
        }
        if (step.destructive) {
          // hostnames, daemons or swarm state may have changed: verify against fresh facts
          this.invalidateFacts();
          facts = await this.facts(signal);
        }
      }
      let expected: StepResult['expectedFailure'];
      if (step.expectFailure !== undefined) {
        const ef = step.expectFailure;
        const self = this.targets(facts, ef.on ?? step.nodes)[0] ?? node1;
        const cmd = renderTemplate(ef.run, this.vars(facts, self));
        const r = await this.exec(id, self.name, cmd, { ...(signal === undefined ? {} : { signal }), timeoutMs: ef.timeoutMs ?? 60_000 });
        const why = unmetExpectation({ exitCode: ef.exitCode ?? 'nonzero', ...(ef.output === undefined ? {} : { output: ef.output }) }, r);
        expected = { observed: why === undefined, explanation: ef.explanation };
        if (why !== undefined) {
          return this.finish(step, {
            status: 'failed', message: `Expected "${cmd}" to fail as the tutorial shows, but: ${why}${tail(r)}`, expectedFailure: expected, checks: [], durationMs: ms(),
          }, facts, 'run');
        }
        this.emit({ type: 'info', stepId: id, node: self.name, text: `Failed as expected: ${ef.explanation.en}` });
      }
      const checks = await this.runChecks(step, facts, step.verify, signal);
      const bad = checks.find((c) => !c.ok);
      if (bad !== undefined) {
        return this.finish(step, { status: 'failed', message: `Verification failed: ${bad.describe}: ${bad.detail}`, checks, durationMs: ms(), ...(expected === undefined ? {} : { expectedFailure: expected }) }, facts, 'run');
      }
      return this.finish(step, {
        status: 'passed', message: expected !== undefined ? 'Failed as expected, and verified.' : inPlace ? 'Already in place, and verified.' : 'Done and verified.',
        checks, durationMs: ms(), ...(inPlace ? { alreadyInPlace: true } : {}), ...(expected === undefined ? {} : { expectedFailure: expected }),
      }, facts, 'run');
    } catch (e) {
      if (isLabError(e, 'Cancelled') || signal?.aborted === true) {
        return this.finish(step, { status: 'cancelled', message: 'Cancelled.', checks: [], durationMs: ms() }, facts, false);
      }
      if (isLabError(e, 'NotFound') && findStep(this.lab, id) === undefined) { throw e; }
      // a node that dropped (or could not be reached) did not let the step finish: its record stays as it was
      const unfinished = isLabError(e, 'Disconnected') || isLabError(e, 'Unreachable');
      return this.finish(step, { status: 'failed', message: describeError(e), checks: [], durationMs: ms() }, facts, unfinished ? false : 'run');
    }
  }

  /**
   * Verifies one step on the nodes without changing them. A step whose state a later step replaced
   * (`supersededBy`, passed after it) is judged by its recorded pass.
   */
  async verifyStep(id: string, opts: RunOptions = {}): Promise<StepResult> {
    const { step } = this.requireStep(id);
    const t0 = Date.now();
    let facts: LabFacts | undefined;
    try {
      facts = await this.facts(opts.signal);
      this.emit({ type: 'step', stepId: id, text: `verify: ${step.title.en}` });
      if (!conditionHolds(step.when, this.nodeFor(facts, 'node1'), facts.overlayPath)) {
        return this.finish(step, { status: 'skipped', message: `Does not apply on the ${facts.overlayPath} path.`, checks: [], durationMs: Date.now() - t0 }, facts, 'verify');
      }
      const rec = this.progress.step(id);
      // "replaced by": a later step (from the lab definition) whose last passed run came after this step's one
      const ran = lastPassedRun(rec);
      const replacedBy = ran === undefined ? undefined : step.supersededBy.find((s) => (lastPassedRun(this.progress.step(s)) ?? '') >= ran);
      if (ran !== undefined && replacedBy !== undefined) {
        return this.finish(step, {
          status: 'passed', supersededBy: replacedBy, checks: [], durationMs: Date.now() - t0,
          message: `Passed at ${ran}; ${replacedBy} has since replaced this state.`,
        }, facts, rec?.status === 'passed' ? false : 'verify');
      }
      const checks = await this.runChecks(step, facts, step.verify, opts.signal);
      const bad = checks.find((c) => !c.ok);
      return this.finish(step, {
        status: bad === undefined ? 'passed' : 'failed',
        message: bad === undefined ? 'Verified.' : `Verification failed: ${bad.describe}: ${bad.detail}`,
        checks, durationMs: Date.now() - t0,
        ...(rec?.expectedFailureObserved === undefined || step.expectFailure === undefined ? {} : { expectedFailure: { observed: rec.expectedFailureObserved, explanation: step.expectFailure.explanation } }),
      }, facts, bad !== undefined || rec?.status !== 'passed' ? 'verify' : false);
    } catch (e) {
      if (isLabError(e, 'Cancelled') || opts.signal?.aborted === true) {
        return this.finish(step, { status: 'cancelled', message: 'Cancelled.', checks: [], durationMs: Date.now() - t0 }, facts, false);
      }
      return this.finish(step, { status: 'failed', message: describeError(e), checks: [], durationMs: Date.now() - t0 }, facts, false);
    }
  }

  /**
   * Runs every step in order (from `from` when given); stops at the first failed or cancelled step.
   * @throws LabError `NotSupported` when the cluster-store path was asked for this runner (`overlayPath` option) but
   *   a node runs Docker newer than `clusterStoreMaxDockerMajor` (nothing is run); `NotFound` for an unknown `from`.
   */
  async runAll(opts: RunOptions & { readonly from?: string } = {}): Promise<StepResult[]> {
    const steps = allSteps(this.lab);
    // facts that cannot be gathered are reported by the first step, as before
    const known = await this.facts(opts.signal).catch(() => undefined);
    const refusal = known?.overlayPathDecision.refusal;
    if (refusal !== undefined) { throw new LabError('NotSupported', refusal, { fix: clusterStoreRefusalFix }); }
    let start = 0;
    if (opts.from !== undefined) {
      start = steps.findIndex((s) => s.step.id === opts.from);
      if (start < 0) { throw new LabError('NotFound', `There is no step "${quoteUserText(opts.from)}" in the lab "${this.lab.id}".`); }
    }
    const out: StepResult[] = [];
    for (const { step } of steps.slice(start)) {
      const r = await this.runStep(step.id, opts);
      out.push(r);
      if (r.status === 'failed' || r.status === 'cancelled') { break; }
    }
    return out;
  }

  /** Verifies every step (does not stop at failures). */
  async verifyAll(opts: RunOptions = {}): Promise<StepResult[]> {
    const out: StepResult[] = [];
    for (const { step } of allSteps(this.lab)) {
      const r = await this.verifyStep(step.id, opts);
      out.push(r);
      if (r.status === 'cancelled') { break; }
    }
    return out;
  }

  /**
   * Removes what the lab created on the nodes: every step's cleanup in reverse order (whatever overlay
   * path was used), then the lab's reset commands; clears the progress of these nodes. Asks first.
   * @returns ok = every cleanup command succeeded (failures are reported, the rest still runs).
   */
  async reset(opts: RunOptions = {}): Promise<{ ok: boolean; cancelled: boolean; failures: string[] }> {
    const facts = await this.facts(opts.signal);
    const steps = allSteps(this.lab).reverse();
    const commands: PlannedCommand[] = [];
    const pseudo = (id: string): StepDefinition => ({
      id, title: { en: id, 'zh-cn': id }, nodes: 'both', prerequisites: [], destructive: true, probe: [], prepare: [], run: [], verify: [], cleanup: [], supersededBy: [],
    });
    const plan: { step: StepDefinition; actions: readonly Action[] }[] = [
      ...steps.map(({ step }) => ({ step, actions: step.cleanup })),
      { step: pseudo('reset'), actions: this.lab.reset },
    ];
    for (const p of plan) {
      for (const a of p.actions) {
        for (const self of this.targets(facts, a.on ?? p.step.nodes)) {
          if (!isBuiltin(a) && conditionHolds(a.when, self, facts.overlayPath, true)) {
            commands.push({ node: self.name, command: this.preview(a.run, facts, self), ...(a.sudo === true ? { sudo: true } : {}) });
          }
        }
      }
    }
    const ok = await this.ask({ kind: 'reset', title: 'Remove everything the lab created on the nodes and restore their Docker daemons.', commands });
    if (!ok) { return { ok: false, cancelled: true, failures: [] }; }
    const failures: string[] = [];
    for (const p of plan) {
      if (p.actions.length === 0) { continue; }
      this.emit({ type: 'step', stepId: p.step.id, text: `cleanup: ${p.step.title.en}` });
      for (const a of p.actions) {
        for (const self of this.targets(facts, a.on ?? p.step.nodes)) {
          if (isBuiltin(a) || !conditionHolds(a.when, self, facts.overlayPath, true)) { continue; }
          try {
            const why = await this.runCommand(p.step.id, facts, self, a, opts.signal);
            if (why !== undefined) { failures.push(why); }
          } catch (e) {
            if (isLabError(e, 'Cancelled')) { throw e; }
            failures.push(`${self.name}: ${describeError(e)}`);
          }
        }
      }
    }
    this.progress.clear();
    this.invalidateFacts();
    this.emit({ type: 'result', text: failures.length === 0 ? 'Reset done.' : `Reset finished with ${failures.length} failure(s).`, status: failures.length === 0 ? 'passed' : 'failed' });
    return { ok: failures.length === 0, cancelled: false, failures };
  }

  private async ask(req: ConfirmRequest): Promise<boolean> {
    if (this.options.confirm === undefined) { return false; }
    return this.options.confirm(req);
  }

  /**
   * The kernel built-in: show the plan; when needed confirm, run it as root (through sudo on a non-root node),
   * reboot, wait for the node to go down and come back (a new boot id), reconnect, verify the new `uname -r`.
   */
  private async runBuiltin(step: StepDefinition, _facts: LabFacts, self: NodeFacts, _a: BuiltinAction, signal?: AbortSignal): Promise<string | undefined> {
    const min = this.options.minimumKernel ?? minimumKernel;
    const plan = kernelPlan(self.osRelease, self.kernel, { minimumKernel: min });
    const os = self.osRelease['PRETTY_NAME'] ?? 'unknown distribution';
    const why = `${os}, kernel ${self.kernel}: ${plan.reason}`;
    this.emit({ type: 'info', stepId: step.id, node: self.name, text: why });
    if (!plan.needed) { return undefined; }
    for (const n of plan.notes) { this.emit({ type: 'info', stepId: step.id, node: self.name, text: `note: ${n}` }); }
    if (plan.commands.length === 0) { return `${self.name}: ${plan.reason}`; }
    const ok = await this.ask({
      kind: 'kernel', stepId: step.id, title: `Upgrade the kernel of ${self.name} and reboot it.`,
      // the confirmation says why, as the output does (a modal is read on its own)
      notes: [why, ...plan.notes],
      commands: [...plan.commands, 'reboot'].map((command) => ({ node: self.name, command, sudo: true })),
    });
    if (!ok) { return `${self.name}: the kernel upgrade was not confirmed.`; }
    const so = signal === undefined ? {} : { signal };
    const t0 = Date.now();
    for (const c of plan.commands) {
      const r = await this.exec(step.id, self.name, c, { ...so, timeoutMs: 1_800_000, sudo: true });
      if (r.code !== 0) { return `${self.name}: "${c}" failed with exit code ${String(r.code)}${tail(r)}`; }
    }
    this.log.info(`kernel: ${self.name}: the plan ran in ${Date.now() - t0} ms`);
    const before = self.kernel;
    const bootIdBefore = (await this.exec(step.id, self.name, bootIdCommand, { ...so, timeoutMs: 15_000, echo: false, stream: false })).stdout.trim();
    await this.exec(step.id, self.name, 'nohup sh -c "sleep 2; reboot" >/dev/null 2>&1 &', { ...so, timeoutMs: 30_000, sudo: true });
    const tReboot = Date.now();
    this.emit({ type: 'info', stepId: step.id, node: self.name, text: 'Rebooting; waiting for the node to go down and come back…' });
    await this.sleep(5_000, signal);
    const deadline = Date.now() + (this.options.rebootTimeoutMs ?? 900_000);
    let wentDown = false;
    while (Date.now() < deadline) {
      throwIfAborted(signal);
      try {
        const sh = await this.shells.shell(self.name, signal);
        const r = await sh.exec(`${bootIdCommand}; uname -r`, { timeoutMs: 15_000, ...so });
        const [bootId = '', now = ''] = r.stdout.trim().split('\n').map((l) => l.trim());
        // the same boot id: the node has not gone down yet (shutting down takes a while)
        if (r.code === 0 && now !== '' && (bootIdBefore === '' ? wentDown : bootId !== bootIdBefore)) {
          this.invalidateFacts();
          const secs = ((Date.now() - tReboot) / 1000).toFixed(0);
          this.emit({ type: 'info', stepId: step.id, node: self.name, text: `Back after ${secs} s with kernel ${now} (was ${before}).` });
          this.log.info(`kernel: ${self.name}: reboot to a working session in ${Date.now() - tReboot} ms`);
          return kernelAtLeast(now, min) ? undefined : `${self.name} came back with kernel ${now}, still older than ${min.join('.')}: pick the new kernel in the boot menu.`;
        }
      } catch (e) {
        if (isLabError(e, 'Cancelled')) { throw e; }
        if (!wentDown) { this.emit({ type: 'info', stepId: step.id, node: self.name, text: `${self.name} is down (${describeError(e)}); waiting for it…` }); }
        wentDown = true;
      }
      await this.sleep(5_000, signal);
    }
    return `${self.name} did not come back within the reboot timeout.`;
  }
}

/** Prints the id the kernel gives each boot (a new one after a reboot). */
const bootIdCommand = 'cat /proc/sys/kernel/random/boot_id';

/** One attempt of a check: the verdict, why it failed, and what it saw (bounded for display, whole for the log). */
interface CheckAttempt {
  readonly ok: boolean;
  /** Why it failed: what was expected and what was found (empty when ok). */
  readonly detail: string;
  readonly what: string;
  readonly captureText: string;
  /** A short account of what the check found (one line at most). */
  readonly found: string;
  /** The whole output of the probe command, for the log when the check fails. */
  readonly output: string;
}

/** Longest one-line check result shown in the step output, in characters. */
export const checkLineMaxChars = 200;

/**
 * The single line a verification check adds to the step output, instead of the probe's raw output:
 * `ok`/`FAILED`, what it checks, and what it found (or why it failed), cut to {@link checkLineMaxChars}.
 */
export function checkLine(describe: string, r: { readonly ok: boolean; readonly detail: string; readonly found: string }): string {
  const seen = r.ok ? r.found : r.detail;
  const line = `${r.ok ? 'ok' : 'FAILED'}: ${describe}${seen === '' ? '' : ` -> ${seen}`}`.replace(/\s*\n\s*/g, ' | ');
  return line.length > checkLineMaxChars ? `${line.slice(0, checkLineMaxChars - 1)}…` : line;
}

function outputOf(r: ExecResult): string {
  return `${r.stdout}${r.stderr === '' ? '' : `\n${r.stderr}`}`.trim();
}

function firstLine(r: Pick<ExecResult, 'stdout' | 'stderr'>): string {
  const line = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** The last `lines` lines of a text, joined with ` | `; when longer than `maxChars`, its end (where errors are), after `…`. */
function excerpt(text: string, lines: number, maxChars: number): string {
  const joined = text.trim().split('\n').slice(-lines).join(' | ');
  return joined.length > maxChars ? `…${joined.slice(-(maxChars - 1))}` : joined;
}

function tail(r: ExecResult): string {
  const text = `${r.stderr.trim()}\n${r.stdout.trim()}`.trim();
  if (text === '') { return ''; }
  return ` (${excerpt(text, 3, 400)})`;
}
