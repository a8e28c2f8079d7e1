import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabError } from '../errors';
import type { OverlayPath } from './labDefinition';

/** What the runner remembers about one step. */
export interface StepRecord {
  /** `passed` (verified), `failed`, or `skipped` (does not apply to the chosen variant). */
  readonly status: 'passed' | 'failed' | 'skipped';
  /** ISO 8601 time the outcome was recorded. */
  readonly at: string;
  /** Wall time of the run or verification in milliseconds. */
  readonly durationMs: number;
  /** The overlay path in force when it ran. */
  readonly overlayPath?: OverlayPath;
  /** One-sentence outcome (the failure reason for `failed`). */
  readonly message?: string;
  /** For steps with an expected failure: it was observed as described. */
  readonly expectedFailureObserved?: boolean;
}

/** The progress of one lab on one set of nodes. */
export interface LabProgress {
  /** The learner's overlay path choice; absent = pick from the Docker version. */
  overlayPath?: OverlayPath;
  /** Step id → outcome. */
  steps: Record<string, StepRecord>;
  /** Captured values (`{{cap.<name>}}`), e.g. container addresses. */
  captures: Record<string, string>;
}

/** The file format: `{ "version": 1, "labs": { "<labId> <node hosts>": LabProgress } }`. */
export interface ProgressFile {
  readonly version: 1;
  labs: Record<string, LabProgress>;
}

/**
 * The default progress file of the CLI: `/var/lib/docker-net-lab/progress.json` when the nodes are the
 * local lab, else `~/.config/docker-net-lab/progress.json` (XDG_CONFIG_HOME honoured).
 */
export function defaultProgressFile(localLab: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (localLab) { return path.join(env['DOCKER_NET_LAB_HOME'] ?? '/var/lib/docker-net-lab', 'progress.json'); }
  const config = env['XDG_CONFIG_HOME'] ?? path.join(os.homedir(), '.config');
  return path.join(config, 'docker-net-lab', 'progress.json');
}

/**
 * A JSON progress file, shared by the CLI and the extension (each passes its own path). Progress is kept
 * per lab and per set of nodes (the key is `<labId> <host1>,<host2>`), so switching between the local lab
 * and real machines keeps both. Writes are atomic (temp file + rename); every change is saved at once.
 */
export class ProgressStore {
  private data: ProgressFile;

  /**
   * @param file the JSON file; created on first write (with its directory).
   * @param key the lab + nodes key, see {@link progressKey}.
   * @throws LabError `InvalidInput` when the file exists but is not a progress file.
   */
  constructor(readonly file: string, readonly key: string) {
    this.data = ProgressStore.read(file);
  }

  private static read(file: string): ProgressFile {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') { return { version: 1, labs: {} }; }
      throw new LabError('InvalidInput', `Cannot read the progress file ${file}: ${(e as Error).message}.`, { cause: e });
    }
    try {
      const parsed = JSON.parse(text) as Partial<ProgressFile>;
      if (parsed.version !== 1 || typeof parsed.labs !== 'object' || parsed.labs === null) { throw new Error('not a version 1 progress file'); }
      return parsed as ProgressFile;
    } catch (e) {
      throw new LabError('InvalidInput', `The progress file ${file} is damaged (${(e as Error).message}).`, {
        cause: e, fix: `Delete ${file} to start the lab progress afresh.`,
      });
    }
  }

  /** Re-reads the file (another process may have changed it). */
  reload(): void {
    this.data = ProgressStore.read(this.file);
  }

  /** The progress of this lab on these nodes (a live object: change it only through the methods). */
  get progress(): LabProgress {
    let p = this.data.labs[this.key];
    if (p === undefined) {
      p = { steps: {}, captures: {} };
      this.data.labs[this.key] = p;
    }
    return p;
  }

  /** The record of one step, if any. */
  step(id: string): StepRecord | undefined {
    return this.progress.steps[id];
  }

  /** Records a step outcome and saves. */
  recordStep(id: string, record: StepRecord): void {
    this.progress.steps[id] = record;
    this.save();
  }

  /** Forgets one step's outcome and saves. */
  forgetStep(id: string): void {
    const { [id]: _gone, ...rest } = this.progress.steps;
    this.progress.steps = rest;
    this.save();
  }

  /** Stores a captured value and saves. */
  setCapture(name: string, value: string): void {
    this.progress.captures[name] = value;
    this.save();
  }

  /** Sets (or with `undefined` clears) the overlay path choice and saves. */
  setOverlayPath(p: OverlayPath | undefined): void {
    if (p === undefined) { delete this.progress.overlayPath; } else { this.progress.overlayPath = p; }
    this.save();
  }

  /** Clears steps and captures of this lab + nodes (keeps the overlay path choice) and saves. */
  clear(): void {
    const keep = this.progress.overlayPath;
    this.data.labs[this.key] = keep === undefined ? { steps: {}, captures: {} } : { overlayPath: keep, steps: {}, captures: {} };
    this.save();
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

/** The progress key of a lab on a set of nodes: `<labId> <host1>,<host2>` (hosts as configured). */
export function progressKey(labId: string, hosts: readonly string[]): string {
  return `${labId} ${hosts.join(',')}`;
}
