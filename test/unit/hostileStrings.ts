// Deterministic hostile inputs for the security fuzz tests (unit and lab). Not a test file itself.

/** A small seeded PRNG (mulberry32): same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const meta = [';', '|', '&', '&&', '||', '$(', ')', '`', "'", '"', '\n', '\r', '\0', '>', '<', '>>', '*', '?', '~', '{', '}', '[', ']',
  '\\', '$', '#', '!', '%', '^', '=', ' ', '\t', '\x1b[2J', '\x7f', '\v', '\f'];
const lookalikes = ['ｒｏｏｔ', 'rооt', 'nоde1', 'docker\u2010node1', 'node1\u200b', '\u202enode1', '１０.９９.０.１１', 'ⅼocalhost', 'ĸey', '\uff04(id)', '\u037e', 'ǀ', '\u00a0'];
const safeParts = ['node1', 'docker-node1', '10.99.0.11', 'root', 'web', 'a', 'x.y', '127.0.0.1', '22', 'busybox', 'net_1', '::1', '[::1]'];

/** Payloads that would leave a trace at `canary` if a shell ever executed them. */
export function payloads(canary: string): string[] {
  return [
    `$(touch ${canary})`, `\`touch ${canary}\``, `;touch ${canary}`, `; touch ${canary};`, `|touch ${canary}`, `&touch ${canary}&`,
    `&& touch ${canary}`, `|| touch ${canary}`, `\ntouch ${canary}\n`, `\rtouch ${canary}`, `'; touch ${canary}; '`, `"; touch ${canary}; "`,
    `"$(touch ${canary})"`, `'$(touch ${canary})'`, `\\'$(touch ${canary})`, `$'\\x3btouch ${canary}'`, `>${canary}`, `>>${canary}`,
    `-oProxyCommand=touch ${canary}`, `-oProxyCommand=sh -c 'touch ${canary}'`, `--output=${canary}`, `-o${canary}`,
    `--help`, `-h`, `--`, `-`, `-rf`, `../../../../etc/passwd`, `..`, `/etc/shadow`, `~root`, `${canary}`, `*`, `/*`, `{a,b}`, `[a-z]*`,
    `\${IFS}touch\${IFS}${canary}`, `$(IFS=_;cmd=touch_${canary};$cmd)`, `<(touch ${canary})`, `$((1+1))`, `\0touch ${canary}`,
    `%n%n%s`, `{{cap.x}}`, `{{.State}}`, `${'A'.repeat(5000)}`, `${'-'.repeat(300)}`, '', ' ', '\t', '\n', 'a\0b',
  ];
}

/**
 * `count` hostile strings, the same for the same seed: the fixed payloads, look-alikes, very long
 * strings, and random mixtures of plausible values, shell metacharacters and payloads. Only valid
 * Unicode (no lone surrogates), so every string survives UTF-8.
 */
export function hostileStrings(count: number, seed: number, canary: string): string[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const fixed = [...payloads(canary), ...lookalikes, ...safeParts];
  const out: string[] = [...fixed];
  while (out.length < count) {
    const r = rnd();
    let s: string;
    if (r < 0.35) {
      s = `${pick(safeParts)}${pick(meta)}${pick(payloads(canary))}`;
    } else if (r < 0.55) {
      s = `${pick(payloads(canary))}${pick(meta)}${pick(safeParts)}`;
    } else if (r < 0.7) {
      // random printable ASCII and a few controls
      const n = 1 + Math.floor(rnd() * 40);
      s = '';
      for (let i = 0; i < n; i++) { s += String.fromCharCode(rnd() < 0.1 ? Math.floor(rnd() * 32) : 32 + Math.floor(rnd() * 95)); }
    } else if (r < 0.8) {
      s = `${pick(lookalikes)}${pick(safeParts)}${rnd() < 0.5 ? pick(meta) : ''}`;
    } else if (r < 0.85) {
      s = pick(safeParts).repeat(20 + Math.floor(rnd() * 400));
    } else if (r < 0.92) {
      // plausible-looking values: these are mostly accepted, so the "accepted" branch is exercised too
      s = `${pick(safeParts)}${rnd() < 0.5 ? '-' : '.'}${Math.floor(rnd() * 1000)}`;
    } else {
      // random code points outside the surrogate range
      const n = 1 + Math.floor(rnd() * 12);
      s = '';
      for (let i = 0; i < n; i++) {
        let cp = Math.floor(rnd() * 0x2ffff);
        if (cp >= 0xd800 && cp <= 0xdfff) { cp = 0x41; }
        s += String.fromCodePoint(cp);
      }
    }
    out.push(s);
  }
  return out.slice(0, count);
}

/**
 * True when a value could not be misread by a shell or by an option parser even if it were pasted
 * unquoted: only characters {@link shellQuote} leaves bare (plus one pair of IPv6 brackets), and no
 * leading "-".
 */
export function isInertWord(s: string): boolean {
  const core = /^\[[0-9A-Fa-f:.]+\]$/.test(s) ? s.slice(1, -1) : s;
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(core) && !core.startsWith('-');
}
