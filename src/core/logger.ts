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

const pemBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

/** Replaces every registered secret and every PEM private-key block in `text` by `***`. */
export function redact(text: string): string {
  let out = text.replace(pemBlock, '***');
  for (const s of secrets) { out = out.split(s).join('***'); }
  return out;
}

/** Redacts one output stream chunk by chunk (see {@link createStreamRedactor}). */
export interface StreamRedactor {
  /** Takes the next chunk; returns the redacted text that is safe to pass on now (maybe empty). */
  write(chunk: string): string;
  /** Ends the stream; returns the redacted rest that was held back. */
  end(): string;
}

const pemBegin = '-----BEGIN ';
/** An unterminated private-key block is held back at most this long (a real one is a few KiB). */
const maxHeldPemChars = 64 * 1024;

/**
 * The start of the text that must wait for the next chunk: the longest tail that may begin a
 * registered secret or the PEM begin marker, or an open `-----BEGIN … PRIVATE KEY-----` block
 * (up to {@link maxHeldPemChars}). `text` is already redacted, so no complete secret is in it.
 */
function heldBackFrom(text: string): number {
  const open = /-----BEGIN [A-Z ]*(?:PRIVATE KEY-----|-{0,4}$)/.exec(text);
  if (open !== null && text.length - open.index <= maxHeldPemChars) { return open.index; }
  let from = text.length;
  for (const s of [pemBegin, ...secrets]) {
    for (let i = Math.max(0, text.length - s.length + 1); i < from; i++) {
      if (s.startsWith(text.slice(i))) { from = i; break; }
    }
  }
  return from;
}

/**
 * A redactor for one stream of output (a remote command's stdout or stderr): the concatenation of
 * what it returns equals {@link redact} of the whole stream, also when a secret or a private-key
 * block is split across chunks. It holds back only a tail that may begin a secret (at most the
 * longest secret's length − 1 characters, or an open private-key block), so ordinary output is
 * passed on at once.
 */
export function createStreamRedactor(): StreamRedactor {
  let pending = '';
  return {
    write(chunk) {
      const text = redact(pending + chunk);
      const cut = heldBackFrom(text);
      pending = text.slice(cut);
      return text.slice(0, cut);
    },
    end() {
      const rest = redact(pending);
      pending = '';
      return rest;
    },
  };
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
