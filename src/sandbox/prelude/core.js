// Exact numbers for sandboxed steps: BigInt integers, rationals that remember whether they were
// written as decimals, number theory, rounding, bases and the dataset's answer format (fmt).
// Runs as global code in a fresh QuickJS context; public names are configurable globals so a step
// may shadow them with its own `const`, and other prelude modules reach the internals through
// globalThis.__exact (captured at load time, before any step runs).
(function () {
  'use strict';
  const G = globalThis;
  const isSafe = Number.isSafeInteger;
  const TEN = 10n;

  function babs(a) { return a < 0n ? -a : a; }
  function bgcd(a, b) {
    a = babs(a); b = babs(b);
    while (b) { const t = a % b; a = b; b = t; }
    return a;
  }
  function pow10(k) { return TEN ** BigInt(k); }
  // integer results come back as numbers when they are exact, as BigInt otherwise
  function out(b) { return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b; }

  // value = n/d, d > 0, gcd(n, d) = 1; dec: written as a decimal, so printed as one when it terminates
  class R {
    constructor(n, d, dec) {
      if (d === 0n) throw new RangeError('division by zero');
      if (d < 0n) { n = -n; d = -d; }
      // BigInt integers (most values) are in lowest terms already, and the gcd loop is most of an R's
      // cost; anything else still goes through bgcd, which rejects a number n (mixed BigInt arithmetic)
      if (d !== 1n || typeof n !== 'bigint') {
        const g = bgcd(n, d);
        if (g > 1n) { n /= g; d /= g; }
      }
      this.n = n; this.d = d; this.dec = !!dec;
    }
    // integers (d = 1) skip the cross products
    add(o) { o = Q(o); return this.d === 1n && o.d === 1n ? new R(this.n + o.n, 1n, this.dec || o.dec) : new R(this.n * o.d + o.n * this.d, this.d * o.d, this.dec || o.dec); }
    sub(o) { o = Q(o); return this.d === 1n && o.d === 1n ? new R(this.n - o.n, 1n, this.dec || o.dec) : new R(this.n * o.d - o.n * this.d, this.d * o.d, this.dec || o.dec); }
    mul(o) { o = Q(o); return new R(this.n * o.n, this.d * o.d, this.dec || o.dec); }
    div(o) { o = Q(o); return new R(this.n * o.d, this.d * o.n, this.dec || o.dec); }
    neg() { return new R(-this.n, this.d, this.dec); }
    abs() { return new R(babs(this.n), this.d, this.dec); }
    inv() { return new R(this.d, this.n, this.dec); }
    pow(k) {
      k = Number(k);
      if (!Number.isInteger(k)) throw new RangeError('pow: integer exponent expected');
      const e = BigInt(Math.abs(k));
      const r = new R(this.n ** e, this.d ** e, this.dec);
      return k < 0 ? r.inv() : r;
    }
    cmp(o) { o = Q(o); const x = this.n * o.d, y = o.n * this.d; return x < y ? -1 : x > y ? 1 : 0; }
    eq(o) { return this.cmp(o) === 0; }
    lt(o) { return this.cmp(o) < 0; }
    le(o) { return this.cmp(o) <= 0; }
    gt(o) { return this.cmp(o) > 0; }
    ge(o) { return this.cmp(o) >= 0; }
    sign() { return this.n < 0n ? -1 : this.n > 0n ? 1 : 0; }
    isInt() { return this.d === 1n; }
    floor() { let q = this.n / this.d; if (this.n < 0n && q * this.d !== this.n) q -= 1n; return new R(q, 1n, this.dec); }
    ceil() { return this.neg().floor().neg(); }
    trunc() { return new R(this.n / this.d, 1n, this.dec); }
    // integer value (number when safe, else BigInt); throws if not an integer
    int() { if (this.d !== 1n) throw new RangeError(this + ' is not an integer'); return out(this.n); }
    // as a fraction (printed p/q) or as a decimal
    frac() { return new R(this.n, this.d, false); }
    decimal() { return new R(this.n, this.d, true); }
    toNumber() { return Number(this.n) / Number(this.d); }
    isTerminating() { let d = this.d; while (d % 2n === 0n) d /= 2n; while (d % 5n === 0n) d /= 5n; return d === 1n; }
    toFraction() { return this.d === 1n ? String(this.n) : this.n + '/' + this.d; }
    // exact decimal expansion; null if it does not terminate
    toDecimal() {
      if (!this.isTerminating()) return null;
      let k = 0, d = this.d;
      while (d !== 1n && (TEN ** BigInt(k)) % d !== 0n) k++;
      const scaled = babs(this.n) * (pow10(k) / this.d);
      let s = scaled.toString();
      if (k > 0) {
        s = s.padStart(k + 1, '0');
        s = s.slice(0, s.length - k) + '.' + s.slice(s.length - k);
        s = s.replace(/0+$/, '').replace(/\.$/, '');
      }
      return (this.n < 0n ? '-' : '') + s;
    }
    toString() { return this.dec && this.d !== 1n ? (this.toDecimal() ?? this.toFraction()) : this.toFraction(); }
    [Symbol.toPrimitive](hint) { return hint === 'string' ? this.toString() : this.toNumber(); }
  }

  const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;
  function parseDecimal(s) {
    const m = DEC_RE.exec(s);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new SyntaxError('not a number: ' + JSON.stringify(s));
    const frac = m[3] ?? '';
    let n = BigInt((m[2] || '0') + frac);
    if (m[1] === '-') n = -n;
    const e = Number(m[4] ?? 0) - frac.length;
    return e >= 0 ? new R(n * pow10(e), 1n, frac !== '' || e > 0) : new R(n, pow10(-e), true);
  }

  // Q(x): exact value of a number, BigInt, string ('-2/3', '0.0021', '12') or R; Q(a, b) = a/b as a fraction
  function Q(x, y) {
    if (y !== undefined) return Q(x).div(Q(y)).frac();
    if (x instanceof R) return x;
    switch (typeof x) {
      case 'bigint': return new R(x, 1n, false);
      case 'number':
        if (!Number.isFinite(x)) throw new RangeError('not a finite number: ' + x);
        if (Number.isInteger(x)) return new R(BigInt(x), 1n, false);
        // the shortest decimal that reads back as x: what the step's author wrote
        return parseDecimal(String(x));
      case 'string': {
        const s = x.replace(/\s+/g, '');
        const slash = s.indexOf('/');
        if (slash >= 0) return Q(s.slice(0, slash)).div(Q(s.slice(slash + 1))).frac();
        return parseDecimal(s);
      }
      case 'boolean': return new R(x ? 1n : 0n, 1n, false);
    }
    if (x && typeof x.toRational === 'function') return x.toRational();
    throw new TypeError('Q: cannot convert ' + typeof x);
  }
  // D(x): the same value, printed as a decimal when it terminates
  function D(x, y) { return (y === undefined ? Q(x) : Q(x, y)).decimal(); }

  // an integer argument as BigInt: number, BigInt, digit string or integral R
  function big(x) {
    if (typeof x === 'bigint') return x;
    if (typeof x === 'number') {
      if (!Number.isInteger(x)) throw new RangeError('integer expected, got ' + x);
      return BigInt(x);
    }
    const r = Q(x);
    if (r.d !== 1n) throw new RangeError('integer expected, got ' + r);
    return r.n;
  }

  function gcd(...xs) {
    const a = xs.length === 1 && Array.isArray(xs[0]) ? xs[0] : xs;
    let g = 0n;
    for (const x of a) g = bgcd(g, big(x));
    return out(g);
  }
  function lcm(...xs) {
    const a = xs.length === 1 && Array.isArray(xs[0]) ? xs[0] : xs;
    let l = 1n;
    for (const x of a) {
      const b = babs(big(x));
      if (b === 0n) return 0;
      l = (l / bgcd(l, b)) * b;
    }
    return out(l);
  }
  function mod(a, m) { a = big(a); m = big(m); const r = a % m; return out(r !== 0n && (r < 0n) !== (m < 0n) ? r + m : r); }
  function modpow(b, e, m) {
    let r = 1n; b %= m;
    while (e > 0n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m; e >>= 1n; }
    return r;
  }

  const SMALL_PRIMES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n, 43n, 47n];
  // Miller-Rabin with the first 15 prime bases: deterministic below 3.3e24, overwhelming above
  function isPrimeBig(n) {
    if (n < 2n) return false;
    for (const p of SMALL_PRIMES) { if (n === p) return true; if (n % p === 0n) return false; }
    let d = n - 1n, s = 0;
    while ((d & 1n) === 0n) { d >>= 1n; s++; }
    outer: for (const a of SMALL_PRIMES) {
      let x = modpow(a, d, n);
      if (x === 1n || x === n - 1n) continue;
      for (let i = 1; i < s; i++) { x = (x * x) % n; if (x === n - 1n) continue outer; }
      return false;
    }
    return true;
  }
  function isPrime(n) { return isPrimeBig(big(n)); }

  // Pollard-Brent: a non-trivial factor of a composite n
  function rho(n) {
    if (n % 2n === 0n) return 2n;
    for (let c = 1n; ; c++) {
      let y = 2n, x = 2n, q = 1n, g = 1n, ys = 2n, r = 1;
      const f = (v) => (v * v + c) % n;
      do {
        x = y;
        for (let i = 0; i < r; i++) y = f(y);
        for (let k = 0; k < r && g === 1n; k += 64) {
          ys = y;
          for (let i = 0; i < 64 && i < r - k; i++) { y = f(y); q = (q * babs(x - y)) % n; }
          g = bgcd(q, n);
        }
        r *= 2;
      } while (g === 1n);
      if (g === n) { do { ys = f(ys); g = bgcd(babs(x - ys), n); } while (g === 1n); }
      if (g !== n) return g;
    }
  }
  function factorBig(n, acc) {
    if (n === 1n) return;
    if (isPrimeBig(n)) { acc.push(n); return; }
    const f = rho(n);
    factorBig(f, acc); factorBig(n / f, acc);
  }
  // prime factorisation of |n| as [[p, e], ...], p ascending
  function factor(x) {
    let n = babs(big(x));
    if (n === 0n) throw new RangeError('factor: 0 has no factorisation');
    const ps = [];
    for (let p = 2n; p < 1000n && p * p <= n; p += p === 2n ? 1n : 2n) while (n % p === 0n) { ps.push(p); n /= p; }
    if (n > 1n) factorBig(n, ps);
    ps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const res = [];
    for (const p of ps) {
      const last = res[res.length - 1];
      if (last && last[0] === out(p)) last[1]++; else res.push([out(p), 1]);
    }
    return res;
  }
  function primeFactors(x) { return factor(x).map((pe) => pe[0]); }
  function divisors(x) {
    let ds = [1n];
    for (const [p, e] of factor(x)) {
      const next = [];
      for (const d of ds) { let m = d; for (let i = 0; i <= e; i++) { next.push(m); m *= BigInt(p); } }
      ds = next;
    }
    ds.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return ds.map(out);
  }

  // floor of the k-th root of n >= 0, exact
  function irootBig(n, k) {
    if (n < 0n) throw new RangeError('iroot of a negative number');
    if (n < 2n) return n;
    const K = BigInt(k);
    let x = 1n << BigInt(Math.ceil(n.toString(2).length / k));
    for (;;) {
      const y = ((K - 1n) * x + n / x ** (K - 1n)) / K;
      if (y >= x) break;
      x = y;
    }
    while (x ** K > n) x--;
    while ((x + 1n) ** K <= n) x++;
    return x;
  }
  function iroot(n, k = 2) { return out(irootBig(big(n), Number(k))); }
  function isqrt(n) { return iroot(n, 2); }
  // nearest integer to the real k-th root of n >= 0 (ties cannot happen for integer n)
  function nearestRoot(n, k = 2) {
    const N = big(n), K = BigInt(k), r = irootBig(N, Number(k));
    return out((2n ** K) * N >= (2n * r + 1n) ** K ? r + 1n : r);
  }

  // round half away from zero to a multiple of step (an R)
  function roundStep(v, step) {
    const q = v.div(step);
    const t = q.abs().add(new R(1n, 2n, false)).floor();
    return (q.n < 0n ? t.neg() : t).mul(step);
  }
  // round(x, dp): to dp decimal places (dp < 0: to tens, hundreds, ...), half away from zero
  function round(x, dp = 0) { return roundStep(Q(x), dp >= 0 ? new R(1n, pow10(dp), true) : new R(pow10(-dp), 1n, true)).decimal(); }
  // roundTo(x, step): to the nearest multiple of step (1000, 10, '0.01')
  function roundTo(x, step) { return roundStep(Q(x), Q(step)).decimal(); }
  // roundSig(x, sf): to sf significant figures
  function roundSig(x, sf) {
    const v = Q(x);
    if (v.n === 0n) return v.decimal();
    const a = v.abs();
    // e = floor(log10 |v|), found exactly
    let e = a.n.toString().length - a.d.toString().length;
    const p = (k) => (k >= 0 ? new R(pow10(k), 1n, false) : new R(1n, pow10(-k), false));
    while (a.lt(p(e))) e--;
    while (a.ge(p(e + 1))) e++;
    return round(v, sf - 1 - e);
  }

  const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
  // toBase(n, b): lower-case digits as in the dataset ('-142', '4c')
  function toBase(n, b) {
    let v = big(n); const B = BigInt(b);
    if (b < 2 || b > 36) throw new RangeError('base must be 2..36');
    const neg = v < 0n; if (neg) v = -v;
    let s = '';
    do { s = DIGITS[Number(v % B)] + s; v /= B; } while (v > 0n);
    return (neg ? '-' : '') + s;
  }
  function fromBase(s, b) {
    s = String(s).trim().toLowerCase();
    const neg = s[0] === '-';
    if (neg || s[0] === '+') s = s.slice(1);
    const B = BigInt(b);
    let v = 0n;
    for (const ch of s) {
      const d = DIGITS.indexOf(ch);
      if (d < 0 || d >= b) throw new SyntaxError('bad digit ' + ch + ' for base ' + b);
      v = v * B + BigInt(d);
    }
    return out(neg ? -v : v);
  }

  const PLACES = ['units', 'tens', 'hundreds', 'thousands', 'ten thousands', 'hundred thousands', 'millions',
    'ten millions', 'hundred millions', 'billions', 'ten billions', 'hundred billions', 'trillions'];
  // digit(n, place): place is 0 for units, 1 for tens, ... or the dataset's name ('ten thousands')
  function digit(n, place) {
    const k = typeof place === 'string' ? PLACES.indexOf(place.trim().toLowerCase()) : place;
    if (k < 0) throw new RangeError('unknown place ' + place);
    return Number((babs(big(n)) / pow10(k)) % TEN);
  }

  function isExact(x) { return x instanceof R || (x !== null && typeof x === 'object' && x.__exactPoly === true); }
  // the dataset's answer format: R as -2/3 or 0.0021, booleans as True/False, arrays as "a, b, c"
  function fmt(x) {
    if (Array.isArray(x)) return x.map(fmt).join(', ');
    switch (typeof x) {
      case 'boolean': return x ? 'True' : 'False';
      case 'bigint': return String(x);
      case 'string': return x;
      case 'number':
        if (Number.isInteger(x)) return String(x);
        if (!Number.isFinite(x)) return String(x);
        // the sandbox's float rule (12 significant digits), then plain decimal notation
        return parseDecimal(String(Number(x.toPrecision(12)))).toString();
    }
    if (x === null || x === undefined) return String(x);
    return x.toString();
  }

  // exact arithmetic on several values: sum, product, comparisons as a sorted list
  function sum(...xs) { const a = xs.length === 1 && Array.isArray(xs[0]) ? xs[0] : xs; return a.reduce((s, x) => s.add(x), Q(0)); }
  function prod(...xs) { const a = xs.length === 1 && Array.isArray(xs[0]) ? xs[0] : xs; return a.reduce((s, x) => s.mul(x), Q(1)); }
  // sortExact(xs, desc): sorted by exact value; the items keep their own form (a name stays a name via by)
  function sortExact(xs, desc = false, by = (v) => v) {
    return xs.slice().sort((a, b) => Q(by(a)).cmp(by(b)) * (desc ? -1 : 1));
  }

  const api = { Q, D, R, big, gcd, lcm, mod, isPrime, factor, primeFactors, divisors, iroot, isqrt, nearestRoot,
    round, roundTo, roundSig, toBase, fromBase, digit, fmt, sum, prod, sortExact };
  for (const k of Object.keys(api)) G[k] = api[k];

  // Tokens of `s` by a sticky regex whose group 1 is the token (leading blanks skipped).
  const BLANK_TAIL = /\s*$/y;
  function tokenizeWith(s, TOKEN) {
    const toks = [];
    let pos = 0;
    while (pos < s.length) {
      BLANK_TAIL.lastIndex = pos;
      if (BLANK_TAIL.test(s)) break;
      TOKEN.lastIndex = pos;
      const m = TOKEN.exec(s);
      if (!m) throw new SyntaxError('cannot read ' + JSON.stringify(s.slice(pos, pos + 10)));
      toks.push(m[1]);
      pos = TOKEN.lastIndex;
    }
    return toks;
  }

  // The infix grammar both poly.js and surd.js read (+ - * /, unary signs, right-associative **), over
  // any value type with add/sub/mul/div/neg methods, or the values `ops` combines: `atom(p)` reads a
  // number, name, call or parenthesis through p (peek, next, eat, expr), `power(base, exponent)` raises.
  // Throws SyntaxError naming the text.
  const METHODS = {
    add: (a, b) => a.add(b), sub: (a, b) => a.sub(b), mul: (a, b) => a.mul(b), div: (a, b) => a.div(b), neg: (a) => a.neg(),
  };
  // One object per parse with its methods on the prototype: the closures a parse used to create cost
  // about as much as reading a short expression.
  class Infix {
    constructor(toks, text, atom, power, ops) {
      this.toks = toks; this.i = 0; this.text = text; this.atom = atom; this.power = power; this.ops = ops;
    }
    peek() { return this.toks[this.i]; }
    next() { return this.toks[this.i++]; }
    eat(t) { if (this.toks[this.i] !== t) throw new SyntaxError('expected ' + t + ' in ' + this.text); this.i++; }
    expr() {
      let v = this.term();
      while (this.peek() === '+' || this.peek() === '-') v = this.toks[this.i++] === '+' ? this.ops.add(v, this.term()) : this.ops.sub(v, this.term());
      return v;
    }
    term() {
      let v = this.unary();
      while (this.peek() === '*' || this.peek() === '/') v = this.toks[this.i++] === '*' ? this.ops.mul(v, this.unary()) : this.ops.div(v, this.unary());
      return v;
    }
    unary() {
      if (this.peek() === '-') { this.i++; return this.ops.neg(this.unary()); }
      if (this.peek() === '+') { this.i++; return this.unary(); }
      const b = this.atom(this);
      if (this.peek() === '**') { this.i++; return this.power(b, this.unary()); }
      return b;
    }
  }
  function parseInfix(toks, text, atom, power, ops = METHODS) {
    const p = new Infix(toks, text, atom, power, ops);
    const v = p.expr();
    if (p.i !== toks.length) throw new SyntaxError('unexpected ' + toks[p.i] + ' in ' + text);
    return v;
  }
  Object.defineProperty(G, '__exact', { value: { R, Q, D, big, out, bgcd, isExact, pow10, parseInfix, tokenizeWith }, configurable: true });
})();
