import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { LabError } from '../src/core/errors';

/** Result of a finished command. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Runs a program (no shell) and collects its output; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      if (timer !== undefined) { clearTimeout(timer); }
      resolve({ code: 127, stdout: '', stderr: e.message });
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) { clearTimeout(timer); }
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs a program and returns its stdout.
 * @throws LabError `LabProvisionFailed` with the command and its stderr when it exits non-zero.
 */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-6).join('\n');
    throw new LabError('LabProvisionFailed', `"${[cmd, ...args].join(' ')}" failed (exit ${r.code}): ${detail}`);
  }
  return r.stdout;
}

/** Starts a long-running program detached (own session), output appended to `logFile`; returns its pid. */
export function spawnDetached(cmd: string, args: readonly string[], logFile: string): number {
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) { throw new LabError('LabProvisionFailed', `Cannot start ${cmd}.`); }
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `intervalMs` until it is true or `timeoutMs` passed; returns the last result. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) { return true; }
    if (Date.now() >= end) { return false; }
    await sleep(intervalMs);
  }
}

/**
 * A pidfile's content: the pid and, when the lab wrote the file, the process's start time ("PID START"); a pidfile
 * a daemon writes itself (dockerd's) holds the pid only.
 */
export interface PidRecord {
  readonly pid: number;
  /** Start time in clock ticks after boot (/proc/PID/stat field 22). */
  readonly startTicks?: number;
}

/** The record in a pidfile ("PID" or "PID START"), or undefined when missing or malformed. */
export function readPidRecord(file: string): PidRecord | undefined {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  const m = /^\s*(\d+)(?:[ \t]+(\d+))?\s*$/.exec(text);
  const pid = Number(m?.[1]);
  if (m === null || !Number.isSafeInteger(pid) || pid <= 1) { return undefined; }
  return m[2] === undefined ? { pid } : { pid, startTicks: Number(m[2]) };
}

/** The pid in a pidfile, or undefined when missing or malformed. */
export function readPid(file: string): number | undefined {
  return readPidRecord(file)?.pid;
}

/**
 * Writes "PID START" for a live process (its start time read now), so that a later pid reuse is told apart.
 * @returns the record written (pid only when the process is already gone).
 */
export function writePidRecord(file: string, pid: number): PidRecord {
  const startTicks = processStartTicks(pid);
  const rec: PidRecord = startTicks === undefined ? { pid } : { pid, startTicks };
  fs.writeFileSync(file, startTicks === undefined ? `${pid}\n` : `${pid} ${startTicks}\n`);
  return rec;
}

/** Start time of a live process in clock ticks after boot (/proc/PID/stat field 22); undefined when it is gone or a zombie. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after "pid (comm) ": field 3 (state) is [0], field 22 (starttime) is [19]
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') { return undefined; }
    const t = Number(fields[19]);
    return Number.isSafeInteger(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The argv of a live process, or undefined when it is gone (zombies count as gone). */
export function processArgv(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') { return undefined; }
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its program name (/proc/PID/comm, which survives sshd's retitling) is one of
 * `names`. A name alone does not make a process ours: see {@link isLabProcess}.
 */
export function pidIs(pid: number | undefined, names: readonly string[]): boolean {
  if (pid === undefined || processArgv(pid) === undefined) { return false; }
  try {
    return names.includes(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
  } catch {
    return false;
  }
}

/** Identity (device and inode) of a network namespace file such as /run/netns/NAME or /proc/PID/ns/net; undefined when missing. */
export function netnsId(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * True when the recorded process is one of the lab's for sure: the pid is alive and, when the start time was
 * recorded, started at that time; its program is one of `names`; and it lives in the network namespace
 * `netnsFile` (a node's /run/netns/NAME). A pid that a host process reused (after a reboot, or while the lab
 * was down) fails the namespace check, and one reused inside the node fails the start time.
 */
export function isLabProcess(rec: PidRecord | undefined, names: readonly string[], netnsFile: string): boolean {
  if (rec === undefined || !pidIs(rec.pid, names)) { return false; }
  if (rec.startTicks !== undefined && processStartTicks(rec.pid) !== rec.startTicks) { return false; }
  const want = netnsId(netnsFile);
  return want !== undefined && netnsId(`/proc/${rec.pid}/ns/net`) === want;
}

/** A lock taken with {@link acquireLock}. */
export interface HeldLock {
  readonly file: string;
  /** Gives the lock back (clears the holder record, ends the flock holder); resolves once it is free. */
  release(): Promise<void>;
}

/** Starts `flock -n` on `file`; resolves with its process once it holds the lock, undefined when the lock is busy. */
function tryFlock(file: string): Promise<ChildProcess | undefined> {
  return new Promise((resolve, reject) => {
    // -o: only flock itself holds the lock fd (not cat), so killing it frees the lock at once; cat ends
    // on EOF of its stdin, i.e. when this process releases or dies, and flock exits with it
    const child = spawn('flock', ['-n', '-o', '-E', '75', file, 'sh', '-c', 'echo locked; exec cat > /dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let settled = false;
    child.stdout.once('data', () => { settled = true; resolve(child); });
    child.on('error', (e) => { if (!settled) { settled = true; reject(new LabError('LabProvisionFailed', `flock: ${e.message}`)); } });
    child.on('exit', (code) => {
      if (settled) { return; }
      settled = true;
      if (code === 75) { resolve(undefined); } else { reject(new LabError('LabProvisionFailed', `flock ${file} exited with ${code ?? 'a signal'}.`)); }
    });
  });
}

/**
 * Takes an exclusive lock on `file`, waiting up to `waitMs` while another process holds it (`onWait` is told its
 * pid once). The lock is flock(2), held by a `flock` child for as long as this process lives or until release():
 * the kernel frees it when the holder dies, so a dead holder's lock is never "taken over" and two waiters cannot
 * both win. The file stays; it records the holder ("PID START") for messages and DOCKER_NET_LAB_LOCK_OWNER, and a
 * live pid recorded there without a flock (a checkout with the former pidfile lock) is waited for too.
 * @throws LabError `Timeout` after `waitMs`.
 */
export async function acquireLock(file: string, waitMs: number, onWait: (holder: number) => void): Promise<HeldLock> {
  const end = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const holder = await tryFlock(file);
    if (holder !== undefined) {
      const recorded = readPidRecord(file);
      const legacyHolder = recorded !== undefined && recorded.startTicks === undefined && recorded.pid !== process.pid && pidAlive(recorded.pid);
      if (!legacyHolder) {
        writePidRecord(file, process.pid);
        holder.stdin?.on('error', () => undefined);
        holder.unref();
        return {
          file,
          release: async (): Promise<void> => {
            if (readPid(file) === process.pid) { fs.writeFileSync(file, ''); }
            const gone = new Promise<void>((r) => { if (holder.exitCode !== null || holder.signalCode !== null) { r(); } else { holder.once('exit', () => r()); } });
            holder.ref(); // keeps this process alive until the lock is free
            holder.kill('SIGKILL');
            holder.stdin?.destroy();
            await gone;
          },
        };
      }
      holder.kill('SIGKILL');
    }
    if (!told) { onWait(readPid(file) ?? 0); told = true; }
    if (Date.now() >= end) { throw new LabError('Timeout', `Another lab command (pid ${readPid(file) ?? '?'}) holds ${file}.`); }
    await sleep(Math.min(250, Math.max(0, end - Date.now())));
  }
}

/**
 * Holds the lock on `file` ({@link acquireLock}) while `fn` runs. A process whose DOCKER_NET_LAB_LOCK_OWNER names
 * the live holder runs without taking it (the holder lends it to its children).
 * @throws LabError `Timeout` after `waitMs`.
 */
export async function withLock<T>(file: string, waitMs: number, onWait: (holder: number) => void, fn: () => Promise<T>): Promise<T> {
  // a parent (e.g. the lab lifecycle test) that holds the lock for a series of commands hands it down
  const owner = Number.parseInt(process.env['DOCKER_NET_LAB_LOCK_OWNER'] ?? '', 10);
  if (Number.isInteger(owner) && owner === readPid(file) && pidAlive(owner)) { return fn(); }
  const lock = await acquireLock(file, waitMs, onWait);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** True when the process exists (not a zombie). */
export function pidAlive(pid: number): boolean {
  return processArgv(pid) !== undefined;
}

/** Sends a signal, ignoring "no such process". */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/**
 * SIGTERM, wait up to `graceMs`, then SIGKILL; resolves when every pid is gone (or after 5 s more). Each pid's
 * start time is taken first and checked again before every signal, so a pid that exits and is reused meanwhile
 * is not signalled.
 */
export async function terminate(pids: readonly number[], graceMs: number): Promise<void> {
  const live = pids.flatMap((pid) => {
    const startTicks = processStartTicks(pid);
    return startTicks === undefined ? [] : [{ pid, startTicks }];
  });
  if (live.length === 0) { return; }
  const same = (p: { pid: number; startTicks: number }): boolean => processStartTicks(p.pid) === p.startTicks;
  for (const p of live) { if (same(p)) { signal(p.pid, 'SIGTERM'); } }
  if (await waitFor(() => live.every((p) => !same(p)), graceMs, 100)) { return; }
  for (const p of live) { if (same(p)) { signal(p.pid, 'SIGKILL'); } }
  await waitFor(() => live.every((p) => !same(p)), 5000, 100);
}

/**
 * Stops the process a pidfile names (SIGTERM, then SIGKILL after `graceMs`), only when {@link isLabProcess} says
 * it is the recorded process of namespace `netnsFile`.
 * @returns its pid, or undefined when nothing was signalled (no pidfile, gone, or not the recorded process).
 */
export async function terminateRecorded(file: string, names: readonly string[], netnsFile: string, graceMs: number): Promise<number | undefined> {
  const rec = readPidRecord(file);
  if (rec === undefined || !isLabProcess(rec, names, netnsFile)) { return undefined; }
  await terminate([rec.pid], graceMs);
  return rec.pid;
}

/** Parent pid of every process (from /proc/<pid>/stat). */
export function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) { continue; }
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
      table.set(Number(e), ppid);
    } catch { /* exited meanwhile */ }
  }
  return table;
}

/** `roots` and all their descendants, children first. */
export function withDescendants(roots: readonly number[], table: Map<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) { children.set(ppid, [...(children.get(ppid) ?? []), pid]); }
  const out: number[] = [];
  const seen = new Set<number>();
  const visit = (p: number): void => {
    if (seen.has(p)) { return; }
    seen.add(p);
    for (const c of children.get(p) ?? []) { visit(c); }
    out.push(p);
  };
  for (const r of roots) { visit(r); }
  return out;
}

/** GET over HTTP with a timeout; resolves with status and body, or undefined when unreachable. */
export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  return httpRequest(url, 'GET', timeoutMs);
}

/** HTTP request with a method (for the Docker API); resolves undefined when unreachable. */
export function httpRequest(url: string, method: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * HTTP request to `port` on a node's loopback, made from inside the node's network namespace `netns` with curl:
 * the lab's provisioning path, which the node's port guard (lab/labGuard.ts) lets in while it drops the same
 * ports from the machine. Resolves with status and body, or undefined when unreachable.
 */
export async function nodeHttp(netns: string, port: number, urlPath: string, method: 'GET' | 'POST', timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  const r = await run('nsenter', [`--net=/run/netns/${netns}`, '--', 'curl', '-sS', '-m', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '-X', method,
    '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${urlPath}`], { timeoutMs: timeoutMs + 5000 });
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number.parseInt(r.stdout.slice(cut + 1), 10);
  if (r.code !== 0 || cut < 0 || !Number.isInteger(status) || status === 0) { return undefined; }
  return { status, body: r.stdout.slice(0, cut) };
}

/** Reads the first line a TCP server sends (e.g. the SSH banner); undefined on error or timeout. */
export function tcpBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = '';
    const done = (v: string | undefined): void => { sock.destroy(); resolve(v); };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl >= 0) { done(buf.slice(0, nl).trim()); }
    });
    sock.on('error', () => done(undefined));
    sock.on('end', () => done(buf === '' ? undefined : buf.trim()));
  });
}

/** Milliseconds since `t0` (from Date.now()). */
export function since(t0: number): number {
  return Date.now() - t0;
}
