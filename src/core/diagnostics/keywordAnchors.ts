/**
 * Makes the matcher's keyword prefilter fast: instead of scanning for whole keywords, it scans for
 * a suffix of each keyword that starts at a character rare in Docker/etcd output. A line that holds
 * a keyword also holds its suffix, so the prefilter still misses nothing; with few, rare first
 * characters V8's regex engine skips most positions at once (about 6× faster than the keywords).
 */

/**
 * Character frequencies (per 10,000 characters) measured on real dockerd and etcd logs and on
 * docker, etcdctl, curl and ping output of the local lab (test/unit/fixtures/diagnostics).
 * Characters not listed count as 1.
 */
const charFrequency: Readonly<Record<string, number>> = {
  ' ': 1111, e: 631, n: 415, i: 405, 1: 368, o: 368, t: 362, '"': 318, 2: 309, r: 307, '.': 306, a: 282, 0: 276, c: 268, l: 258,
  s: 253, d: 233, ':': 219, '=': 194, m: 176, '-': 171, 5: 171, g: 168, 8: 166, p: 147, v: 145, f: 145, 6: 144, 3: 143, 4: 133,
  9: 124, u: 114, 7: 101, b: 89, '/': 87, h: 70, T: 62, '\\': 53, Z: 48, y: 44, k: 43, ',': 35, C: 30, I: 28, w: 25, N: 22,
  '[': 21, ']': 21, A: 17, P: 17, x: 16, S: 16, O: 15, E: 15, D: 15, R: 13, L: 13, '|': 11, '>': 10, '<': 10, M: 10, U: 9,
  G: 7, '{': 7, _: 7, '}': 7, ')': 6, '(': 6, W: 6, F: 6, B: 5, H: 4, q: 4, '+': 4, Y: 4, z: 3, V: 3, "'": 2, '*': 2, K: 2, '`': 2,
};

function frequency(c: string): number {
  return charFrequency[c] ?? 1;
}

/** Start positions a keyword's anchor may take: it keeps at least `minLength` characters. */
function startPositions(keyword: string, minLength: number): number[] {
  const last = Math.max(0, keyword.length - minLength);
  return Array.from({ length: last + 1 }, (_v, i) => i);
}

/**
 * For each keyword, the suffix the prefilter scans for (same order as `keywords`). The anchor
 * characters are chosen greedily: each round takes the character that starts an allowed suffix of
 * the most uncovered keywords per unit of frequency. Every suffix keeps at least `minLength`
 * characters (or the whole keyword when it is shorter).
 */
export function anchorKeywords(keywords: readonly string[], minLength = 5): string[] {
  const uncovered = new Set(keywords);
  const anchors = new Set<string>();
  while (uncovered.size > 0) {
    const score = new Map<string, number>();
    for (const k of uncovered) {
      const chars = new Set(startPositions(k, minLength).map((i) => k.charAt(i)));
      for (const c of chars) { score.set(c, (score.get(c) ?? 0) + 1); }
    }
    let best = '';
    let bestValue = -1;
    for (const [c, n] of score) {
      const value = n / frequency(c);
      if (value > bestValue) { best = c; bestValue = value; }
    }
    anchors.add(best);
    for (const k of [...uncovered]) {
      if (startPositions(k, minLength).some((i) => k.charAt(i) === best)) { uncovered.delete(k); }
    }
  }
  return keywords.map((k) => {
    let at = 0;
    let atFrequency = Number.POSITIVE_INFINITY;
    for (const i of startPositions(k, minLength)) {
      const c = k.charAt(i);
      if (anchors.has(c) && frequency(c) < atFrequency) { at = i; atFrequency = frequency(c); }
    }
    return k.slice(at);
  });
}
