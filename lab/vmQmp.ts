import * as net from 'node:net';
import { LabError } from '../src/core/errors';

/** A QMP event (e.g. `SHUTDOWN` with `data.reason` `guest-reset`). */
export interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

/** A connection to a QEMU monitor socket speaking QMP. */
export interface QmpClient {
  /** Runs a command; resolves with its `return` value. @throws LabError `LabProvisionFailed` for a QMP error. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Resolves when the connection ends (QEMU exited). */
  readonly closed: Promise<void>;
  close(): void;
}

/**
 * Connects to the QMP socket `file`, negotiates capabilities and passes every event to `onEvent`.
 * @throws LabError `LabProvisionFailed` when the socket does not answer within `timeoutMs`.
 */
export function connectQmp(file: string, onEvent: (e: QmpEvent) => void = () => undefined, timeoutMs = 10_000): Promise<QmpClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(file);
    let buf = '';
    let nextId = 1;
    let greeted = false;
    const pending = new Map<string, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
    let closedResolve: () => void = () => undefined;
    const closed = new Promise<void>((r) => { closedResolve = r; });
    const timer = setTimeout(() => { sock.destroy(); reject(new LabError('LabProvisionFailed', `QMP ${file}: no answer within ${timeoutMs} ms.`)); }, timeoutMs);
    const send = (command: string, args?: Record<string, unknown>): Promise<unknown> => new Promise((ok, fail) => {
      const id = String(nextId++);
      pending.set(id, { ok, fail });
      sock.write(`${JSON.stringify({ execute: command, ...(args === undefined ? {} : { arguments: args }), id })}\n`);
    });
    const client: QmpClient = { execute: send, closed, close: () => sock.end() };
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') { continue; }
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
        if ('QMP' in msg && !greeted) {
          greeted = true;
          send('qmp_capabilities').then(() => { clearTimeout(timer); resolve(client); }, (e: Error) => { clearTimeout(timer); reject(e); });
          continue;
        }
        if (typeof msg['event'] === 'string') { onEvent(msg as unknown as QmpEvent); continue; }
        const id = typeof msg['id'] === 'string' ? msg['id'] : '';
        const p = pending.get(id);
        if (p === undefined) { continue; }
        pending.delete(id);
        const err = msg['error'] as { desc?: string } | undefined;
        if (err !== undefined) { p.fail(new LabError('LabProvisionFailed', `QMP: ${err.desc ?? 'error'}`)); } else { p.ok(msg['return']); }
      }
    });
    const end = (): void => {
      clearTimeout(timer);
      for (const p of pending.values()) { p.fail(new LabError('LabProvisionFailed', 'QMP connection closed.')); }
      pending.clear();
      closedResolve();
    };
    sock.on('error', (e) => { if (!greeted) { clearTimeout(timer); reject(new LabError('LabProvisionFailed', `QMP ${file}: ${e.message}`)); } end(); });
    sock.on('close', end);
  });
}
