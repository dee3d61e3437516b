// Sums of square roots of rationals, exact: a + b*sqrt(k) + ..., for arithmetic__simplify_surd.
// surd('(sqrt(119)*3 - sqrt(119))/sqrt(7) + 3', env) parses the dataset's text (numbers, names in env,
// sqrt(...), + - * / and integer powers) and prints in sympy's form: 6*sqrt(17) + 26, 212 - 48*sqrt(11),
// -2*sqrt(7)/7. Needs core.js.
(function () {
  'use strict';
  const G = globalThis;
  const { R, Q, big, parseInfix, tokenizeWith } = G.__exact;
  const factor = G.factor;

  // squarefree part: k = s^2 * f -> [s, f]
  function squarefree(k) {
    if (k === 0n) return [0n, 1n];
    let s = 1n, f = 1n;
    for (const [p, e] of factor(k)) {
      const P = big(p);
      s *= P ** BigInt(Math.floor(e / 2));
      if (e % 2) f *= P;
    }
    return [s, f];
  }

  // terms: { [squarefree k as decimal text]: R coefficient }, zero coefficients dropped
  class Surd {
    constructor(terms) { this.terms = terms; }
    static rational(q) { return Surd.of(Q(q), 1n); }
    static of(c, k) {
      const t = {};
      if (Q(c).n !== 0n) t[String(k)] = Q(c);
      return new Surd(t);
    }
    // sqrt of a non-negative rational p/q = sqrt(p*q)/q
    static sqrt(x) {
      const r = x instanceof Surd ? x.rational() : Q(x);
      if (r.n < 0n) throw new RangeError('sqrt of a negative number');
      const [s, f] = squarefree(r.n * r.d);
      return Surd.of(new R(s, r.d), f);
    }
    keys() { return Object.keys(this.terms); }
    rational() {
      const ks = this.keys();
      if (ks.length === 0) return Q(0);
      if (ks.length !== 1 || ks[0] !== '1') throw new RangeError('not a rational number: ' + this);
      return this.terms['1'];
    }
    add(o) {
      o = toSurd(o);
      const t = Object.assign({}, this.terms);
      for (const k of o.keys()) {
        const c = (t[k] || Q(0)).add(o.terms[k]);
        if (c.n === 0n) delete t[k]; else t[k] = c;
      }
      return new Surd(t);
    }
    neg() { const t = {}; for (const k of this.keys()) t[k] = this.terms[k].neg(); return new Surd(t); }
    sub(o) { return this.add(toSurd(o).neg()); }
    mul(o) {
      o = toSurd(o);
      let acc = new Surd({});
      for (const a of this.keys()) for (const b of o.keys()) {
        const [s, f] = squarefree(BigInt(a) * BigInt(b));
        acc = acc.add(Surd.of(this.terms[a].mul(o.terms[b]).mul(new R(s, 1n)), f));
      }
      return acc;
    }
    // 1/x for one term c*sqrt(k), or a + b*sqrt(k) by its conjugate
    inv() {
      const ks = this.keys();
      if (ks.length === 1) {
        const k = BigInt(ks[0]);
        return Surd.of(this.terms[ks[0]].mul(new R(k, 1n)).inv(), k);
      }
      if (ks.length === 2 && ks.includes('1')) {
        const k = ks.find((x) => x !== '1');
        const a = this.terms['1'], b = this.terms[k];
        const den = a.mul(a).sub(b.mul(b).mul(new R(BigInt(k), 1n)));
        return Surd.of(a.div(den), 1n).add(Surd.of(b.neg().div(den), BigInt(k)));
      }
      if (ks.length === 0) throw new RangeError('division by zero');
      throw new RangeError('cannot invert ' + this);
    }
    div(o) { return this.mul(toSurd(o).inv()); }
    pow(n) {
      n = Number(n);
      if (!Number.isInteger(n)) throw new RangeError('pow: integer exponent expected');
      let r = Surd.rational(1), b = n < 0 ? this.inv() : this;
      for (let i = 0; i < Math.abs(n); i++) r = r.mul(b);
      return r;
    }
    toNumber() { let s = 0; for (const k of this.keys()) s += this.terms[k].toNumber() * Math.sqrt(Number(k)); return s; }
    // sympy's str(): a rational and one root term are ordered by value, except "a - b*sqrt(k)" for a > 0 > b
    toString() {
      const ks = this.keys().sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      if (ks.length === 0) return '0';
      const terms = ks.map((k) => ({ k, c: this.terms[k], v: this.terms[k].toNumber() * Math.sqrt(Number(k)) }));
      const r = terms.find((t) => t.k === '1');
      if (!(terms.length === 2 && r && r.c.n > 0n && terms.find((t) => t !== r).c.n < 0n)) terms.sort((a, b) => a.v - b.v);
      let s = '';
      terms.forEach((t, i) => {
        const neg = t.c.n < 0n;
        const body = term(neg ? t.c.neg() : t.c, t.k);
        s += i === 0 ? (neg ? '-' : '') + body : (neg ? ' - ' : ' + ') + body;
      });
      return s;
    }
  }
  // |c|*sqrt(k) as sympy prints it: 3*sqrt(2)/4, sqrt(17)/2, 5/3, sqrt(3)
  function term(c, k) {
    const p = c.n, q = c.d;
    if (k === '1') return q === 1n ? String(p) : p + '/' + q;
    const root = 'sqrt(' + k + ')';
    const num = p === 1n ? root : p + '*' + root;
    return q === 1n ? num : num + '/' + q;
  }
  function toSurd(x) { return x instanceof Surd ? x : Surd.rational(x); }

  const TOKEN = /\s*(\d+\.?\d*|\.\d+|\*\*|[A-Za-z_][A-Za-z_0-9]*|[-+*/()])/y;
  function surd(text, env) {
    if (text instanceof Surd) return text;
    if (typeof text !== 'string') return toSurd(text);
    const toks = tokenizeWith(text, TOKEN);
    const atom = (p) => {
      const t = p.next();
      if (t === undefined) throw new SyntaxError('unexpected end of ' + text);
      if (t === '(') { const v = p.expr(); p.eat(')'); return v; }
      if (/^[\d.]/.test(t)) return Surd.rational(Q(t));
      if (t === 'sqrt') { p.eat('('); const v = p.expr(); p.eat(')'); return Surd.sqrt(v); }
      if (env && Object.prototype.hasOwnProperty.call(env, t)) return toSurd(env[t]);
      throw new SyntaxError('unknown name ' + t + ' in ' + text);
    };
    return parseInfix(toks, text, atom, (b, e) => b.pow(e.rational().toNumber()));
  }

  const api = { surd, Surd };
  for (const k of Object.keys(api)) G[k] = api[k];
})();
