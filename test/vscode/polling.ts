// Waiting helpers shared by the VS Code suites (suite/ and untrusted/). tsc compiles this file to
// out/test/vscode/polling.js, beside mochaRunner.js, where the tests of both directories require it.

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What {@link poll} ended with: the probe's first value other than undefined (undefined on timeout) and the ms since the start. */
export interface Polled<T> {
  value: T | undefined;
  ms: number;
}

/**
 * Calls `probe` (sync or async) until it returns something other than undefined, waiting `intervalMs`
 * between calls. Gives up once `timeoutMs` have elapsed after a call, so the probe runs at least once and
 * once more after the last wait.
 */
export async function poll<T>(timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>, intervalMs = 25): Promise<Polled<T>> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    const ms = Date.now() - start;
    if (value !== undefined || ms >= timeoutMs) { return { value, ms }; }
    await sleep(intervalMs);
  }
}

/** {@link poll} for the value alone: the probe's first value other than undefined, or undefined after `timeoutMs`. */
export async function until<T>(timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>, intervalMs = 25): Promise<T | undefined> {
  return (await poll(timeoutMs, probe, intervalMs)).value;
}

/** {@link poll} that must find a value: throws "timed out waiting for <what>" when none came within `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const { value } = await poll(timeoutMs, probe, intervalMs);
  if (value === undefined) { throw new Error(`timed out waiting for ${what}`); }
  return value;
}
