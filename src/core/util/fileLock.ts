import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LabError } from '../errors';

/** Who holds a lock (or a takeover claim): the JSON content of the file. */
interface LockOwner {
  readonly pid: number;
  /** The process's start time (field 22 of /proc/<pid>/stat) on Linux, so a reused pid is not taken for the owner; '' elsewhere. */
  readonly start: string;
  readonly host: string;
  /** Unique per acquisition; names the takeover claim of this lock. */
  readonly token: string;
}

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Longest wait for a lock held by a live process, in ms (default 10000). */
  readonly timeoutMs?: number;
}

/** An unparsable lock older than this is stale (locks are written whole, so this is only a damaged disk). */
const unreadableStaleMs = 5000;
/** How deep a chain of takeover claims of dead claimers is followed (each level needs a crash within microseconds). */
const maxClaimDepth = 3;

function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3): a zombie has exited
    if (fields[0] === 'Z' || fields[0] === 'X') { return 'exited'; }
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

function newOwner(): LockOwner {
  return { pid: process.pid, start: processStart(process.pid), host: os.hostname(), token: crypto.randomBytes(12).toString('hex') };
}

/** True unless the owner is known to be gone: same host, and no such process (or another process with its pid). */
function ownerAlive(o: LockOwner): boolean {
  if (o.host !== os.hostname()) { return true; }
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') { return false; }
  }
  const now = processStart(o.pid);
  return !(now === 'exited' || (o.start !== '' && now !== '' && now !== o.start));
}

type Read = { readonly owner: LockOwner; readonly alive: boolean } | undefined;

/** The owner of a lock or claim file; undefined when the file is gone. An unreadable file gets a token from its content. */
function readOwner(file: string): Read {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') { return undefined; }
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.token === 'string' && /^[0-9a-f]{1,64}$/.test(o.token)) {
      const owner: LockOwner = { pid: o.pid, start: typeof o.start === 'string' ? o.start : '', host: typeof o.host === 'string' ? o.host : '', token: o.token };
      return { owner, alive: ownerAlive(owner) };
    }
  } catch { /* unreadable: below */ }
  const token = crypto.createHash('sha256').update(text).digest('hex').slice(0, 24);
  return { owner: { pid: 0, start: '', host: '', token }, alive: Date.now() - mtimeMs < unreadableStaleMs };
}

/** Creates `file` with the owner's JSON, whole, or returns false when it exists (link(2) is atomic and exclusive). */
function createExclusive(file: string, owner: LockOwner): boolean {
  const tmp = `${file}.${owner.token}.new`;
  fs.writeFileSync(tmp, JSON.stringify(owner), { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') { return false; }
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function removeIfToken(file: string, token: string): boolean {
  if (readOwner(file)?.owner.token !== token) { return false; }
  fs.rmSync(file, { force: true });
  return true;
}

/**
 * Removes `target` (a lock or claim whose owner, holding `token`, is gone) unless another process is doing it;
 * true when something changed (worth trying the lock again at once).
 * Only the one process that creates the claim file `<lock>.takeover-<token>` may remove it; so two waiters
 * that both found the same dead owner never both remove a lock (the second would remove the first one's
 * new lock). A claimer that died is itself taken over the same way.
 */
function removeStale(lockFile: string, target: string, token: string, depth: number): boolean {
  const claim = `${lockFile}.takeover-${token}`;
  const me = newOwner();
  if (createExclusive(claim, me)) {
    try { return removeIfToken(target, token); } finally { removeIfToken(claim, me.token); }
  }
  const other = readOwner(claim);
  if (other === undefined) { return true; }
  if (other.alive || depth >= maxClaimDepth) { return false; }
  return removeStale(lockFile, claim, other.owner.token, depth + 1);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` while holding the lock file `lockFile` (created next to the data it guards), for short critical
 * sections shared by processes of this machine (the CLI and VS Code windows). The lock is taken by an exclusive
 * link(2) of a complete file holding the owner (pid, process start time, host, token); a lock whose owner
 * process is gone is taken over through a claim only one waiter can make (see {@link removeStale}). A lock
 * held by a live process is never taken over: the wait ends with an error instead. Synchronous: waits block
 * the thread in short sleeps (the sections it guards take milliseconds).
 * @throws LabError `Timeout` when a live process holds the lock longer than `timeoutMs`; file system errors.
 */
export function withFileLock<T>(lockFile: string, fn: () => T, opts: FileLockOptions = {}): T {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const me = newOwner();
  let delay = 2;
  for (;;) {
    if (createExclusive(lockFile, me)) { break; }
    const held = readOwner(lockFile);
    if (held === undefined || (!held.alive && removeStale(lockFile, lockFile, held.owner.token, 0))) { continue; }
    if (Date.now() > deadline) {
      const who = held === undefined ? 'another process' : `process ${held.owner.pid} on ${held.owner.host || 'an unknown host'}`;
      throw new LabError('Timeout', `The lock ${lockFile} is held by ${who} for longer than ${Math.round((opts.timeoutMs ?? 10_000) / 1000)} s.`, {
        fix: `If no docker-net-lab command or VS Code window is using it, delete ${lockFile}.`,
      });
    }
    sleepSync(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return fn();
  } finally {
    removeIfToken(lockFile, me.token);
  }
}
