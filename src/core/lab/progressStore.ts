import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabError } from '../errors';
import { withFileLock } from '../util/fileLock';
import type { OverlayPath } from './labDefinition';

/** What the runner remembers about one step. */
export interface StepRecord {
  /** `passed` (verified), `failed`, or `skipped` (does not apply to the chosen variant). */
  readonly status: 'passed' | 'failed' | 'skipped';
  /** ISO 8601 time the outcome was recorded (by a run or a verification). */
  readonly at: string;
  /**
   * ISO 8601 time of the last run of this step that passed (set by runs only; a verification keeps it, a
   * failed run removes it). "Replaced by" relations are ordered by it, so a verification never changes them.
   * Absent in files written before it existed: then `at` of a `passed` record stands in.
   */
  readonly ranAt?: string;
  /** Wall time of the run or verification in milliseconds. */
  readonly durationMs: number;
  /** The overlay path in force when it ran. */
  readonly overlayPath?: OverlayPath;
  /** One-sentence outcome (the failure reason for `failed`). */
  readonly message?: string;
  /** For steps with an expected failure: it was observed as described. */
  readonly expectedFailureObserved?: boolean;
}

/**
 * When the step last passed a run (ISO 8601), or undefined: its `ranAt`, or for records written before
 * `ranAt` existed, `at` of a `passed` record.
 */
export function lastPassedRun(record: StepRecord | undefined): string | undefined {
  return record?.ranAt ?? (record?.status === 'passed' ? record.at : undefined);
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

/** Options of {@link ProgressStore}. */
export interface ProgressStoreOptions {
  /**
   * Told (one sentence, with the paths) when the file was damaged and has been set aside: the hosts show it
   * (the CLI on stderr, VS Code as a warning). Progress then starts afresh in a new file.
   */
  readonly onWarning?: (message: string) => void;
  /** Longest wait for the file's lock held by another live process, in ms (default 10000). */
  readonly lockTimeoutMs?: number;
}

/** What identifies one version of the file (a rename makes a new inode). */
interface FileStamp { readonly ino: number; readonly size: number; readonly mtimeMs: number }

function stampOf(file: string): FileStamp | undefined {
  try {
    const s = fs.statSync(file);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') { return undefined; }
    throw e;
  }
}

function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

type Parsed = { readonly ok: true; readonly data: ProgressFile } | { readonly ok: false; readonly why: string };

function parseProgress(text: string): Parsed {
  try {
    const parsed = JSON.parse(text) as Partial<ProgressFile>;
    if (parsed.version !== 1 || typeof parsed.labs !== 'object' || parsed.labs === null || Array.isArray(parsed.labs)) {
      return { ok: false, why: 'not a version 1 progress file' };
    }
    return { ok: true, data: parsed as ProgressFile };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
}

/** Writes `text` to `file` atomically and durably: temp file in the same directory, fsync, rename, fsync of the directory. */
function writeDurably(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  let dir: number | undefined;
  try {
    dir = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(dir);
  } catch {
    // directories cannot be opened or synced on some systems (Windows); the rename is still atomic there
  } finally {
    if (dir !== undefined) { fs.closeSync(dir); }
  }
}

/**
 * A JSON progress file, shared by the CLI and the extension (each passes its own path). Progress is kept
 * per lab and per set of nodes (the key is `<labId> <host1>,<host2>`), so switching between the local lab
 * and real machines keeps both.
 *
 * Write path: every change takes the file's lock (`<file>.lock`, see {@link withFileLock}), reads the file
 * as it is now, applies only this change to it (one step's record, one capture, ...), and replaces the file
 * atomically and durably (temp file, fsync, rename, fsync of the directory). So two writers (the CLI and a
 * VS Code window, two windows) recording different steps both keep their records, and a reader (or a
 * writer killed at any point) sees the old or the new file, never a part. Reads see the latest file: it is
 * read again whenever it changed on disk. A damaged file is never reset silently: it is renamed to
 * `<file>.corrupt-<time>`, and `onWarning` tells where.
 */
export class ProgressStore {
  private data: ProgressFile = { version: 1, labs: {} };
  private stamp: FileStamp | undefined;
  private loaded = false;

  /**
   * @param file the JSON file; created on first write (with its directory).
   * @param key the lab + nodes key, see {@link progressKey}.
   * @throws LabError `InvalidInput` when the file exists but cannot be read.
   */
  constructor(readonly file: string, readonly key: string, private readonly options: ProgressStoreOptions = {}) {
    this.refresh();
  }

  /** The lock file of {@link file}. */
  get lockFile(): string {
    return `${this.file}.lock`;
  }

  /** Reads the file again when it changed on disk since this store last read or wrote it. */
  private refresh(): void {
    const now = stampOf(this.file);
    if (this.loaded && sameStamp(now, this.stamp)) { return; }
    const read = this.readFile();
    if (read.ok) {
      this.data = read.data;
      this.stamp = now;
      this.loaded = true;
      return;
    }
    // damaged: set it aside under the lock (another process may be doing the same, or have written a good file meanwhile)
    this.locked(() => {
      this.data = this.readForWrite();
      this.stamp = stampOf(this.file);
      this.loaded = true;
    });
  }

  private readFile(): Parsed {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') { return { ok: true, data: { version: 1, labs: {} } }; }
      throw new LabError('InvalidInput', `Cannot read the progress file ${this.file}: ${(e as Error).message}.`, { cause: e });
    }
    return parseProgress(text);
  }

  /** Under the lock: the file as it is now; a damaged one is renamed aside (and reported), giving an empty progress. */
  private readForWrite(): ProgressFile {
    const read = this.readFile();
    if (read.ok) { return read.data; }
    const backup = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(this.file, backup);
    this.options.onWarning?.(`The progress file ${this.file} was damaged (${read.why}); it was kept as ${backup}, and the lab progress starts afresh.`);
    return { version: 1, labs: {} };
  }

  private locked(fn: () => void): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    withFileLock(this.lockFile, fn, this.options.lockTimeoutMs === undefined ? {} : { timeoutMs: this.options.lockTimeoutMs });
  }

  /** Under the lock: temp files of writers that died before their rename (writers make them only under the lock). */
  private removeDeadTemps(): void {
    const dir = path.dirname(this.file);
    const mine = new RegExp(`^${path.basename(this.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.[a-z0-9]+\\.tmp$`);
    for (const name of fs.readdirSync(dir)) {
      if (mine.test(name)) { fs.rmSync(path.join(dir, name), { force: true }); }
    }
  }

  /** Applies `change` to this lab's progress in the file as it is now, under the lock, and saves. */
  private update(change: (p: LabProgress) => void): void {
    this.locked(() => {
      this.removeDeadTemps();
      const current = this.readForWrite();
      const p = current.labs[this.key] ?? { steps: {}, captures: {} };
      p.steps ??= {};
      p.captures ??= {};
      change(p);
      current.labs[this.key] = p;
      writeDurably(this.file, `${JSON.stringify(current, null, 2)}\n`);
      this.data = current;
      this.stamp = stampOf(this.file);
      this.loaded = true;
    });
  }

  /** Re-reads the file (another process may have changed it). Reads do this by themselves when the file changed. */
  reload(): void {
    this.loaded = false;
    this.refresh();
  }

  /** The progress of this lab on these nodes, as the file has it now (a copy in memory: change it only through the methods). */
  get progress(): LabProgress {
    this.refresh();
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

  /** Records a step outcome and saves (other records in the file are kept as they are there). */
  recordStep(id: string, record: StepRecord): void {
    this.update((p) => { p.steps[id] = record; });
  }

  /** Forgets one step's outcome and saves. */
  forgetStep(id: string): void {
    this.update((p) => { delete p.steps[id]; });
  }

  /** Stores a captured value and saves. */
  setCapture(name: string, value: string): void {
    this.update((p) => { p.captures[name] = value; });
  }

  /** Removes a captured value (when it is there) and saves. */
  forgetCapture(name: string): void {
    if (!(name in this.progress.captures)) { return; }
    this.update((p) => { delete p.captures[name]; });
  }

  /** Sets (or with `undefined` clears) the overlay path choice and saves. */
  setOverlayPath(overlayPath: OverlayPath | undefined): void {
    this.update((p) => { if (overlayPath === undefined) { delete p.overlayPath; } else { p.overlayPath = overlayPath; } });
  }

  /** Clears steps and captures of this lab + nodes (keeps the overlay path choice) and saves. */
  clear(): void {
    this.update((p) => { p.steps = {}; p.captures = {}; });
  }
}

/** The progress key of a lab on a set of nodes: `<labId> <host1>,<host2>` (hosts as configured). */
export function progressKey(labId: string, hosts: readonly string[]): string {
  return `${labId} ${hosts.join(',')}`;
}
