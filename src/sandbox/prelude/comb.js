// Counting and exact probabilities: factorial, binomial, permutations, drawing without replacement.
// Needs core.js.
(function () {
  'use strict';
  const G = globalThis;
  const { R, big, out } = G.__exact;

  function factB(n) { let r = 1n; for (let i = 2n; i <= n; i++) r *= i; return r; }
  function binomB(n, k) {
    if (k < 0n || k > n) return 0n;
    if (k > n - k) k = n - k;
    let r = 1n;
    for (let i = 1n; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  }
  function factorial(n) { const N = big(n); if (N < 0n) throw new RangeError('factorial of a negative number'); return out(factB(N)); }
  function binomial(n, k) { return out(binomB(big(n), big(k))); }
  function perm(n, k) { const N = big(n), K = big(k); return K < 0n || K > N ? 0 : out(factB(N) / factB(N - K)); }

  // counts from '{k: 5, r: 2}' text, a letters string 'kbkbbkb', or an object
  function counts(bag) {
    if (typeof bag === 'string') {
      const s = bag.trim();
      const o = {};
      if (s.startsWith('{')) {
        for (const m of s.matchAll(/([A-Za-z0-9_]+)\s*:\s*(\d+)/g)) o[m[1]] = (o[m[1]] || 0) + Number(m[2]);
      } else {
        for (const ch of s) o[ch] = (o[ch] || 0) + 1;
      }
      return o;
    }
    return Object.assign({}, bag);
  }
  function total(c) { return Object.values(c).reduce((a, b) => a + b, 0); }
  // probability of drawing exactly the sequence (e.g. 'kker') without replacement, as a fraction
  function probSequence(bag, seq) {
    const c = counts(bag);
    let n = BigInt(total(c)), p = new R(1n, 1n, false);
    for (const ch of seq) {
      const k = BigInt(c[ch] || 0);
      if (k === 0n) return new R(0n, 1n, false);
      p = p.mul(new R(k, n, false));
      c[ch]--; n--;
    }
    return p;
  }
  // probability that an unordered draw of sum(want) items has exactly want[x] of each x
  function probCounts(bag, want) {
    const c = counts(bag), w = counts(want);
    let fav = 1n, k = 0n;
    for (const x of Object.keys(w)) { fav *= binomB(BigInt(c[x] || 0), BigInt(w[x])); k += BigInt(w[x]); }
    return new R(fav, binomB(BigInt(total(c)), k), false);
  }

  const api = { factorial, binomial, perm, counts, probSequence, probCounts };
  for (const k of Object.keys(api)) G[k] = api[k];
})();
