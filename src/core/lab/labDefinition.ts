/**
 * The guided lab as data: the types of `labs/<lab>/lab.json` and its chapter files, after they
 * were validated against `labs/schema/lab.schema.json` by {@link ./loadLab#loadLab}.
 * See docs/guided-lab.md for the file format and the recipe to add a step.
 */

/** A text in every language the lab ships (English and Simplified Chinese). */
export interface LocalizedText {
  readonly en: string;
  readonly 'zh-cn': string;
}

/** Where a step or command runs: the first configured node, the second, or both (node1 then node2). */
export type NodeRole = 'node1' | 'node2' | 'both';

/** The two ways to build the cross-host overlay network. */
export type OverlayPath = 'cluster-store' | 'swarm';

/** Every overlay path, in display order. */
export const overlayPaths: readonly OverlayPath[] = ['cluster-store', 'swarm'];

/** Firewall kinds a node fact can report. */
export type FirewallKind = 'firewalld' | 'ufw' | 'iptables' | 'none';

/**
 * A condition on the lab's choices and the target node's facts. Every given field must hold.
 * Used to pick variants: a step or command that does not apply is skipped (reported as such).
 */
export interface Condition {
  /** Only on this overlay path. */
  readonly overlayPath?: OverlayPath;
  /** Only where the node has (`true`) or lacks (`false`) the `lab-dockerd` helper of the local lab. */
  readonly labDockerd?: boolean;
  /** Only where the node's firewall is one of these. */
  readonly firewall?: readonly FirewallKind[];
  /** Only where etcdctl speaks this API for cluster health (`v2` = `ETCDCTL_API=2 etcdctl cluster-health`). */
  readonly etcdApi?: 'v2' | 'v3';
  /** Only where an etcd binary is (`true`) or is not (`false`) installed on the node. */
  readonly etcdInstalled?: boolean;
}

/** Expectations on one command's outcome. Regexes are JavaScript regexes, tested with the `m` flag. */
export interface Expectation {
  /** Exact exit code, or `nonzero` for any failure. Default for commands: 0. */
  readonly exitCode?: number | 'nonzero';
  /** stdout must match. */
  readonly stdout?: string;
  /** stdout must not match. */
  readonly stdoutNot?: string;
  /** stderr must match. */
  readonly stderr?: string;
  /** stdout + "\n" + stderr must match. */
  readonly output?: string;
}

/** Retries of a command or check until it meets its expectation (services starting, addresses settling). */
export interface Retry {
  /** Total attempts (≥ 1). */
  readonly attempts: number;
  /** Milliseconds between attempts. */
  readonly delayMs: number;
  /**
   * Commands only: retry only while the failed attempt's output (stdout + stderr) matches this regex
   * (e.g. an attachable overlay not yet visible on a worker); any other failure fails at once.
   */
  readonly onOutput?: string;
  /** Commands only: a command (template) run before the next attempt, to remove what the failed one left. */
  readonly undo?: string;
}

/** How a command's stdout becomes a lab variable, usable as `{{cap.<name>}}` in later commands. */
export interface Capture {
  /** Variable name (letters, digits, `_`). */
  readonly name: string;
  /** Optional regex on stdout; group 1 (or the whole match) is the value. Default: trimmed stdout. */
  readonly regex?: string;
  /** What the value must look like; anything else is refused (values end up in shell commands). */
  readonly type: 'ipv4' | 'name' | 'int' | 'token';
  /**
   * A secret (a swarm join token): kept in the runner's memory only, never written to the progress file,
   * masked in every command, output and message shown. Default: true for `token`, false otherwise.
   */
  readonly secret?: boolean;
}

/** Whether a capture's value is a secret (see {@link Capture.secret}). */
export function isSecretCapture(c: Capture): boolean {
  return c.secret ?? c.type === 'token';
}

/** One shell command of a step. */
export interface CommandAction {
  /** The command line, a template (see {@link ./template#renderTemplate}). */
  readonly run: string;
  /** Where it runs; default: the step's nodes. */
  readonly on?: NodeRole;
  /** Only when this holds (per target node). */
  readonly when?: Condition;
  /** Expected outcome; default `{ exitCode: 0 }`. */
  readonly expect?: Expectation;
  /** Keep going when the command fails (best-effort commands such as removing a stale container). */
  readonly allowFailure?: boolean;
  /** Store a value from stdout. */
  readonly capture?: Capture;
  /** Retry until the expectation holds. */
  readonly retry?: Retry;
  /** Milliseconds before the command is abandoned (default 120000). */
  readonly timeoutMs?: number;
  /** A file of the lab directory (relative path) written to the command's stdin. */
  readonly stdinFile?: string;
  /**
   * Needs root: runs through sudo on a node whose user is not root and that is configured with `sudo: true`
   * (see `ExecOptions.sudo`); root logins and nodes without sudo run it as it is.
   */
  readonly sudo?: boolean;
}

/** A built-in action the runner implements in code (distro-aware plans, node reboots). */
export interface BuiltinAction {
  /** `kernelPlan`: show the node's kernel plan, and run it (confirm, reboot, reconnect, verify) when needed. */
  readonly builtin: 'kernelPlan';
  readonly on?: NodeRole;
  readonly when?: Condition;
}

/** One action of a step: a command or a built-in. */
export type Action = CommandAction | BuiltinAction;

/** An HTTP check run from a node with curl. Passes when the status (and body) match. */
export interface HttpCheck {
  readonly kind: 'http';
  /** Node that runs curl. */
  readonly from: NodeRole;
  /** URL template, e.g. `http://{{node2.ip}}:5000/`. */
  readonly url: string;
  /** Expected HTTP status (default 200). */
  readonly status?: number;
  /** Regex the body must match. */
  readonly body?: string;
  readonly capture?: Capture;
  readonly retry?: Retry;
  readonly when?: Condition;
  /** What the check proves, shown when it fails. */
  readonly describe?: string;
}

/** A shell command check. */
export interface CommandCheck {
  readonly kind: 'command';
  readonly run: string;
  /** Needs root (see {@link CommandAction.sudo}). */
  readonly sudo?: boolean;
  readonly on?: NodeRole;
  readonly expect?: Expectation;
  readonly capture?: Capture;
  readonly retry?: Retry;
  readonly when?: Condition;
  readonly describe?: string;
}

/**
 * A Docker state check: runs `docker <object> inspect <name>` on the node(s) and compares values at
 * dotted paths of the first result (e.g. `Scope`, `NetworkSettings.Networks.my-overlay.IPAddress`).
 */
export interface DockerCheck {
  readonly kind: 'docker';
  readonly object: 'container' | 'network' | 'image';
  /** Object name (template). */
  readonly name: string;
  readonly on?: NodeRole;
  /** `false`: the object must NOT exist. Default `true`. */
  readonly exists?: boolean;
  /** Path → regex the value (JSON-stringified unless a string) must match. */
  readonly match?: Readonly<Record<string, string>>;
  readonly retry?: Retry;
  readonly when?: Condition;
  readonly describe?: string;
}

/** One verification. */
export type Check = HttpCheck | CommandCheck | DockerCheck;

/** The failure a step expects, and why. The step passes only if the command fails this way. */
export interface ExpectedFailure {
  /** The command that must fail (template). */
  readonly run: string;
  readonly on?: NodeRole;
  /** Exit code expected (`nonzero` by default). */
  readonly exitCode?: number | 'nonzero';
  /** Regex on stdout + "\n" + stderr. */
  readonly output?: string;
  readonly timeoutMs?: number;
  /** Why it fails: shown when it failed as expected. */
  readonly explanation: LocalizedText;
}

/** One verified step. */
export interface StepDefinition {
  /** Stable id (see the step list in docs/guided-lab.md); never renamed. */
  readonly id: string;
  /** Short title. */
  readonly title: LocalizedText;
  /** Where it runs. */
  readonly nodes: NodeRole;
  /** Steps that must have passed (or not apply) before this one. */
  readonly prerequisites: readonly string[];
  /** Asks for confirmation first (changes daemons, firewalls, kernels, hostnames). */
  readonly destructive: boolean;
  /** The step applies only when this holds (lab-wide: overlay path). */
  readonly when?: Condition;
  /** Checks that, when all pass, mean the step's state already exists: the runner skips `prepare` and `run`. */
  readonly probe: readonly Check[];
  /** Commands that remove stale state before `run` (e.g. a container with the wrong config). */
  readonly prepare: readonly Action[];
  /** The tutorial's commands. */
  readonly run: readonly Action[];
  /** The expected failure, for steps that teach by failing. */
  readonly expectFailure?: ExpectedFailure;
  /** Checks run after `run`; the step passes when all pass. */
  readonly verify: readonly Check[];
  /** Commands undoing what the step created (used by `reset`, in reverse step order). */
  readonly cleanup: readonly Action[];
  /**
   * Later steps that replace this step's state (e.g. the container is recreated with other flags).
   * Once one of them passed after this step, `verify` of this step relies on its recorded pass.
   */
  readonly supersededBy: readonly string[];
  /** Short explanation shown after the step (what it proved). */
  readonly explanation?: LocalizedText;
}

/** One chapter: a file `labs/<lab>/<chapter id>.json`. */
export interface ChapterDefinition {
  readonly id: string;
  readonly title: LocalizedText;
  readonly nodes: NodeRole;
  readonly steps: readonly StepDefinition[];
  /** The file it came from (absolute path). */
  readonly file: string;
}

/** Image names the commands use as `{{images.<key>}}`. */
export type ImageNames = Readonly<Record<string, string>>;

/** A whole lab after loading: `lab.json` with its chapters resolved. */
export interface LabDefinition {
  readonly id: string;
  readonly title: LocalizedText;
  /** Directory of lab.json (absolute). */
  readonly dir: string;
  readonly images: ImageNames;
  /** Highest Docker major version on which the cluster-store path is offered by default. */
  readonly clusterStoreMaxDockerMajor: number;
  readonly chapters: readonly ChapterDefinition[];
  /** Commands `reset` runs on every node after the steps' cleanups. */
  readonly reset: readonly Action[];
}

/** A step with its chapter, as returned by {@link allSteps}. */
export interface StepRef {
  readonly chapter: ChapterDefinition;
  readonly step: StepDefinition;
  /** Position in the lab (0-based, over all chapters). */
  readonly index: number;
}

/** Every step of the lab in order. */
export function allSteps(lab: LabDefinition): StepRef[] {
  const out: StepRef[] = [];
  for (const chapter of lab.chapters) {
    for (const step of chapter.steps) { out.push({ chapter, step, index: out.length }); }
  }
  return out;
}

/** The step with this id, or `undefined`. */
export function findStep(lab: LabDefinition, id: string): StepRef | undefined {
  return allSteps(lab).find((s) => s.step.id === id);
}

/** True when the action is a built-in. */
export function isBuiltin(a: Action): a is BuiltinAction {
  return 'builtin' in a;
}

/** The VS Code context key set once a step is verified: `dockerNetLab.step.<id with - → _>`. */
export function stepContextKey(stepId: string): string {
  return `dockerNetLab.step.${stepId.replace(/-/g, '_')}`;
}

/** Names of the lab's secret captures (any action or check of any step, and the reset commands). */
export function secretCaptureNames(lab: LabDefinition): string[] {
  const names = new Set<string>();
  const add = (x: Action | Check): void => {
    if ('capture' in x && x.capture !== undefined && isSecretCapture(x.capture)) { names.add(x.capture.name); }
  };
  for (const { step } of allSteps(lab)) {
    [...step.probe, ...step.verify].forEach(add);
    [...step.prepare, ...step.run, ...step.cleanup].forEach(add);
  }
  lab.reset.forEach(add);
  return [...names];
}
