/**
 * A small logging port. The VS Code host backs it with a LogOutputChannel, the CLI with stderr.
 * Loggers must never receive secrets; {@link redact} removes the known ones defensively.
 */

/** Log sink used throughout the core. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything (the default in tests and libraries). */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const secrets = new Set<string>();

/**
 * Registers a secret (password, passphrase) so that {@link redact} masks it wherever it appears.
 * Values shorter than 4 characters are not registered (they would mask ordinary text).
 */
export function registerSecret(secret: string): void {
  if (secret.length >= 4) { secrets.add(secret); }
}

/** Replaces every registered secret and every PEM private-key block in `text` by `***`. */
export function redact(text: string): string {
  let out = text.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '***');
  for (const s of secrets) { out = out.split(s).join('***'); }
  return out;
}

/** Wraps a logger so that everything it receives goes through {@link redact} first. */
export function redactingLogger(inner: Logger): Logger {
  return {
    trace: (m) => inner.trace(redact(m)),
    debug: (m) => inner.debug(redact(m)),
    info: (m) => inner.info(redact(m)),
    warn: (m) => inner.warn(redact(m)),
    error: (m) => inner.error(redact(m)),
  };
}
