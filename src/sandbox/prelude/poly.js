// Polynomials with exact rational coefficients in any number of variables, parsed from and printed in
// the dataset's (sympy's) text form; linear equations, rational roots, factoring over the rationals,
// sequence fitting. Needs core.js.
(function () {
  'use strict';
  const G = globalThis;
  const { R, Q, big, out, bgcd, parseInfix, tokenizeWith } = G.__exact;
  // handed out to steps (a constant() of 0, Poly.var's coefficient) and shared by every evaluation on
  // the runtime, so frozen like everything else in the realm
  const ZERO = Object.freeze(Q(0)), ONE = Object.freeze(Q(1));

  // monomial key: 'x:2,y:1' with variables in alphabetical order; '' is the constant term
  function keyOf(m) {
    const vs = Object.keys(m).filter((v) => m[v] !== 0).sort();
    return vs.map((v) => v + ':' + m[v]).join(',');
  }
  function monoOf(key) {
    const m = {};
    if (key) for (const part of key.split(',')) { const i = part.lastIndexOf(':'); m[part.slice(0, i)] = Number(part.slice(i + 1)); }
    return m;
  }
  const PLAIN = {};
  function mulKeys(a, b) {
    if (!a) return b;
    if (!b) return a;
    // x:i times x:j, most products: keyOf(monoOf) without building the objects (a name that objects
    // inherit, toString or __proto__, takes the general path, which treats it its own way)
    const i = a.lastIndexOf(':'), v = a.slice(0, i);
    if (a.indexOf(',') < 0 && b.indexOf(',') < 0 && b.slice(0, b.lastIndexOf(':')) === v && !(v in PLAIN)) {
      const e = (Number(a.slice(i + 1)) || 0) + Number(b.slice(i + 1));
      return e !== 0 ? v + ':' + e : '';
    }
    const m = monoOf(a), n = monoOf(b);
    for (const v in n) m[v] = (m[v] || 0) + n[v];
    return keyOf(m);
  }

  class Poly {
    constructor(terms, param) {
      this.terms = new Map();
      for (const [k, c] of terms) if (c.n !== 0n) this.terms.set(k, c);
      this.param = param;
    }
    static const(c) { return new Poly([['', Q(c)]]); }
    static var(v) { return new Poly([[v + ':1', ONE]]); }
    get __exactPoly() { return true; }
    isConst() { for (const k of this.terms.keys()) if (k) return false; return true; }
    constant() { return this.terms.get('') ?? ZERO; }
    toRational() { if (!this.isConst()) throw new TypeError(this + ' is not a constant'); return this.constant(); }
    vars() {
      const s = new Set();
      for (const k of this.terms.keys()) for (const v of Object.keys(monoOf(k))) s.add(v);
      return [...s].sort();
    }
    add(o) {
      o = poly(o);
      const t = new Map(this.terms);
      for (const [k, c] of o.terms) t.set(k, (t.get(k) ?? ZERO).add(c));
      return new Poly(t);
    }
    neg() { return new Poly([...this.terms].map(([k, c]) => [k, c.neg()])); }
    sub(o) { return this.add(poly(o).neg()); }
    mul(o) {
      o = poly(o);
      const t = new Map();
      for (const [k1, c1] of this.terms) for (const [k2, c2] of o.terms) {
        const k = mulKeys(k1, k2), prev = t.get(k), c = c1.mul(c2);
        // the first product for a monomial is a fresh R already: no ZERO.add copy
        t.set(k, prev === undefined ? c : prev.add(c));
      }
      return new Poly(t);
    }
    div(o) {
      o = poly(o);
      if (!o.isConst()) throw new TypeError('division by a non-constant polynomial ' + o);
      const c = o.constant();
      return new Poly([...this.terms].map(([k, x]) => [k, x.div(c)]));
    }
    pow(k) {
      k = Number(k);
      if (!Number.isInteger(k) || k < 0) {
        if (this.isConst()) return Poly.const(this.constant().pow(k));
        throw new RangeError('polynomial power must be a non-negative integer');
      }
      let r = Poly.const(1), b = this;
      // no square after the last bit: it was the largest product, and unused
      for (;;) { if (k & 1) r = r.mul(b); k >>= 1; if (k <= 0) return r; b = b.mul(b); }
    }
    eq(o) { return this.sub(o).terms.size === 0; }
    degree(v) {
      let d = 0;
      for (const k of this.terms.keys()) {
        const m = monoOf(k);
        d = Math.max(d, v === undefined ? Object.values(m).reduce((a, b) => a + b, 0) : (m[v] || 0));
      }
      return d;
    }
    // coefficient of v**k (the rest of the variables stay): R if constant, else Poly
    coeff(v, k = 1) {
      if (typeof v === 'number') { k = v; v = this.mainVar(); }
      const t = [];
      for (const [key, c] of this.terms) {
        const m = monoOf(key);
        if ((m[v] || 0) !== k) continue;
        delete m[v];
        t.push([keyOf(m), c]);
      }
      return simplify(new Poly(t));
    }
    // the coefficient the form names: P('4*t**3 + 2*t').coeffNamed('o*t**2 + m*t + p + z*t**3', 'z') is
    // that of t**3 (4); the form's own names are its coefficients, env only supplies numbers
    coeffNamed(form, name, env) {
      const f = P(form, env);
      let x, k;
      for (const key of f.terms.keys()) {
        const m = monoOf(key);
        if (m[name] !== 1) continue;
        const rest = Object.keys(m).filter((v) => v !== name);
        if (k !== undefined || rest.length > 1) throw new RangeError(name + ' is not one coefficient of ' + form);
        x = rest[0];
        k = x === undefined ? 0 : m[x];
      }
      if (k === undefined) throw new RangeError(name + ' is not a coefficient of ' + form);
      // the constant term's variable: the one this polynomial shares with the form (none: a constant)
      if (x === undefined) { const fv = f.vars(); x = this.vars().find((v) => fv.includes(v)); }
      return x === undefined ? simplify(this) : this.coeff(x, k);
    }
    mainVar() {
      if (this.param) return this.param;
      const vs = this.vars();
      if (vs.length !== 1) throw new TypeError('say which variable: ' + this + ' has ' + (vs.join(', ') || 'none'));
      return vs[0];
    }
    // substitute: p.subs('x', q) or p.subs({x: q, y: 2})
    subs(v, val) {
      const env = typeof v === 'object' ? v : { [v]: val };
      const vals = {};
      for (const name in env) vals[name] = poly(env[name]);
      // in the parser's values (constants as R, below): substituting numbers is most calls
      let r = ZERO;
      for (const [key, c] of this.terms) {
        const m = monoOf(key);
        let t = nz(Q(c)), rest = {};
        for (const name in m) {
          if (!(name in vals)) { rest[name] = m[name]; continue; }
          const x = vals[name];
          t = OPS.mul(t, x instanceof Poly && x.isConst() ? powConst(x.constant(), Number(m[name])) : x.pow(m[name]));
        }
        const k = keyOf(rest);
        r = OPS.add(r, OPS.mul(t, k ? new Poly([[k, ONE]]) : ONE));
      }
      return lift(r);
    }
    // p.at(3) for one variable, p.at({x: 1, y: 2}); R if the result is constant
    at(x) { return simplify(typeof x === 'object' && !(x instanceof R) && !(x instanceof Poly) ? this.subs(x) : this.subs(this.mainVar(), x)); }
    // function application f(g): the parameter replaced by g
    call(x) { if (this.isConst()) return simplify(this); return this.at(x); }
    compose(g) { return poly(this.subs(this.mainVar(), g)); }
    diff(v, k = 1) {
      if (typeof v === 'number') { k = v; v = undefined; }
      if (v === undefined) v = this.mainVar();
      let p = this;
      for (let i = 0; i < k; i++) {
        const t = [];
        for (const [key, c] of p.terms) {
          const m = monoOf(key), e = m[v] || 0;
          if (e === 0) continue;
          m[v] = e - 1;
          t.push([keyOf(m), c.mul(e)]);
        }
        p = new Poly(t);
      }
      return p;
    }
    // terms in sympy's order: lexicographic on exponents, variables alphabetical, highest first
    sortedTerms() {
      const vs = this.vars();
      const vec = (k) => { const m = monoOf(k); return vs.map((v) => m[v] || 0); };
      return [...this.terms].map(([k, c]) => [k, c, vec(k)]).sort((a, b) => {
        for (let i = 0; i < vs.length; i++) if (a[2][i] !== b[2][i]) return b[2][i] - a[2][i];
        return 0;
      });
    }
    toString() {
      const ts = this.sortedTerms();
      if (ts.length === 0) return '0';
      // sympy writes c + (-a)*x**k (one positive number, one negative single-variable term) as "c - a*x**k"
      if (ts.length === 2 && ts[1][0] === '' && ts[1][1].n > 0n && ts[0][1].n < 0n && Object.keys(monoOf(ts[0][0])).length === 1) ts.reverse();
      let s = '';
      ts.forEach(([k, c], i) => {
        const t = termString(k, c.abs());
        s += i === 0 ? (c.n < 0n ? '-' + t : t) : (c.n < 0n ? ' - ' : ' + ') + t;
      });
      return s;
    }
    [Symbol.toPrimitive](hint) { return hint === 'string' || !this.isConst() ? this.toString() : this.constant().toNumber(); }

    // distinct rational roots of a one-variable polynomial, ascending
    roots() { return rootsWithMult(this).map((rm) => rm[0]); }
    // factored form over the rationals as sympy prints it: -3*(o - 1)*(o + 440)/7
    factor() { return factorString(this); }
  }

  function monoString(k) {
    const m = monoOf(k);
    return Object.keys(m).sort().map((v) => (m[v] === 1 ? v : v + '**' + m[v])).join('*');
  }
  // one term, coefficient c >= 0
  function termString(k, c) {
    if (!k) return c.toString();
    const mono = monoString(k);
    if (c.dec && !c.isInt() && c.isTerminating()) return c.toString() + '*' + mono;
    const p = c.n === 1n ? mono : c.n + '*' + mono;
    return c.d === 1n ? p : p + '/' + c.d;
  }

  function simplify(p) { return p.isConst() ? p.constant() : p; }
  function poly(x) {
    if (x instanceof Poly) return x;
    if (typeof x === 'string') return parse(x, {});
    return Poly.const(Q(x));
  }

  // ---- parser for the dataset's expressions: + - * / ** ( ), numbers, names, calls f(x) ----
  const TOKEN = /\s*(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+|\*\*|[A-Za-z_][A-Za-z_0-9]*|[-+*/()^,=])/y;
  function tokenize(s) {
    return tokenizeWith(s, TOKEN).map((t) => (t === '^' ? '**' : t));
  }
  // While parsing, a constant is an R and only a polynomial in some variable is a Poly: the dataset's
  // expressions are mostly numbers, and Poly arithmetic on constant polynomials (a Map per value) was
  // most of the cost of P/ev. The R operations below give exactly what the Poly ones give on constant
  // polynomials (same values and decimal flags; zero is always ZERO, as an empty Poly's constant() is;
  // 0/0 is 0 as an empty Poly divides no term); a Poly operand takes the Poly operation itself.
  function lift(v) { return v instanceof R ? Poly.const(v) : v; }
  function nz(r) { return r.n === 0n ? ZERO : r; }
  function value(x) { return x instanceof Poly ? x : typeof x === 'string' ? parse(x, {}) : nz(Q(x)); }
  function mulConst(a, b) { return a === ZERO || b === ZERO ? ZERO : a.mul(b); }
  const OPS = {
    add: (a, b) => (a instanceof R && b instanceof R ? (b === ZERO ? a : nz(a.add(b))) : lift(a).add(lift(b))),
    sub: (a, b) => (a instanceof R && b instanceof R ? (b === ZERO ? a : nz(a.add(b.neg()))) : lift(a).sub(lift(b))),
    mul: (a, b) => (a instanceof R && b instanceof R ? mulConst(a, b) : lift(a).mul(lift(b))),
    div: (a, b) => (a instanceof R && b instanceof R ? (a === ZERO ? ZERO : a.div(b)) : lift(a).div(lift(b))),
    neg: (a) => (a instanceof R ? (a === ZERO ? ZERO : a.neg()) : a.neg()),
  };
  // Poly.pow on a constant, step for step
  function powConst(b, k) {
    if (!Number.isInteger(k) || k < 0) return nz(b.pow(k));
    let r = Q(1);
    for (;;) { if (k & 1) r = mulConst(r, b); k >>= 1; if (k <= 0) return r; b = mulConst(b, b); }
  }
  const NUMBER_START = /^[\d.]/, NAME_START = /^[A-Za-z_]/;
  function parse(text, env) { return lift(parseValue(text, env)); }
  function parseValue(text, env) {
    const toks = tokenize(String(text));
    const power = (b, e) => {
      if (e instanceof Poly && !e.isConst()) throw new SyntaxError('non-constant exponent in ' + text);
      const c = e instanceof R ? e : e.constant();
      if (!c.isInt()) throw new SyntaxError('fractional exponent in ' + text);
      return b instanceof R ? powConst(b, Number(c.n)) : b.pow(Number(c.n));
    };
    const atom = (p) => {
      const t = p.next();
      if (t === undefined) throw new SyntaxError('unexpected end of ' + text);
      if (t === '(') { const v = p.expr(); p.eat(')'); return v; }
      if (NUMBER_START.test(t)) return nz(Q(t));
      if (NAME_START.test(t)) {
        if (p.peek() === '(') {
          p.next();
          const arg = p.expr();
          p.eat(')');
          const f = env[t];
          if (f instanceof Poly) return value(f.call(lift(arg)));
          if (typeof f === 'function') return value(f(arg instanceof R ? arg : simplify(arg)));
          throw new ReferenceError(t + ' is not a known function (pass it in the env)');
        }
        if (env && Object.prototype.hasOwnProperty.call(env, t)) return value(env[t]);
        return Poly.var(t);
      }
      throw new SyntaxError('unexpected ' + t + ' in ' + text);
    };
    return parseInfix(toks, text, atom, power, OPS);
  }

  // P(text, env): a polynomial; names in env are values, polynomials or functions (P/fn results)
  function P(text, env) { return text instanceof Poly ? text : typeof text === 'string' ? parse(text, env || {}) : poly(text); }
  // fn('l', '-2*l**2 + 2*l + 2'): a polynomial function of l (callable in P texts as x(o), or .call(o))
  function fn(param, text, env) { const p = P(text, env); return new Poly(p.terms, param); }
  // ev(text, env): exact value of an expression, R if constant, else the polynomial
  function ev(text, env) { return simplify(P(text, env)); }

  // 'lhs = rhs' (or an expression meaning "= 0") as lhs - rhs
  function equation(eq, env) {
    if (eq instanceof Poly) return eq;
    const s = String(eq);
    const k = s.indexOf('=');
    return k < 0 ? P(s, env) : P(s.slice(0, k), env).sub(P(s.slice(k + 1), env));
  }
  // solveLinear('-5766 = 9*h - 5739', 'h') -> R
  function solveLinear(eq, v, env) {
    const e = equation(eq, env);
    if (v === undefined) v = e.mainVar();
    if (e.degree(v) !== 1) throw new RangeError('not linear in ' + v + ': ' + e);
    const a = poly(e.coeff(v, 1)), b = poly(e.coeff(v, 0));
    if (!a.isConst() || !b.isConst()) throw new RangeError('other unknowns in ' + e);
    return b.constant().neg().div(a.constant());
  }
  // solveLinear2(['eq1', 'eq2'], ['x', 'y'], env) -> {x: R, y: R}; solveLinear2(['eq1', 'eq2'], env): the
  // unknowns are the names env does not define (exactly two), so a step need not name them
  function solveLinear2(eqs, vs, env) {
    if (!Array.isArray(vs)) {
      env = vs;
      // parsed once: equation() below returns a Poly as it is
      eqs = eqs.map((q) => equation(q, env));
      const free = new Set();
      for (const e of eqs) for (const w of e.vars()) free.add(w);
      vs = [...free].sort();
      if (vs.length !== 2) throw new RangeError('expected 2 unknowns, found ' + (vs.join(', ') || 'none'));
    }
    const [x, y] = vs;
    const rows = eqs.map((q) => {
      const e = equation(q, env);
      const parts = [e.coeff(x, 1), poly(e.coeff(x, 0)).coeff(y, 1), poly(poly(e.coeff(x, 0)).coeff(y, 0))];
      const [a, b, c] = parts.map((p) => Q(p instanceof Poly ? p.toRational() : p));
      if (e.degree(x) > 1 || e.degree(y) > 1 || e.vars().some((w) => w !== x && w !== y)) throw new RangeError('not linear in ' + x + ', ' + y + ': ' + e);
      return [a, b, c.neg()];
    });
    const [[a1, b1, c1], [a2, b2, c2]] = rows;
    const det = a1.mul(b2).sub(a2.mul(b1));
    if (det.n === 0n) throw new RangeError('no unique solution');
    return { [x]: c1.mul(b2).sub(c2.mul(b1)).div(det), [y]: a1.mul(c2).sub(a2.mul(c1)).div(det) };
  }

  // integer coefficients of a one-variable polynomial, highest degree first, with its variable
  function intCoeffs(p) {
    const v = p.mainVar(), n = p.degree(v), cs = [];
    for (let k = n; k >= 0; k--) cs.push(Q(p.coeff(v, k)));
    let l = 1n;
    for (const c of cs) l = (l / bgcd(l, c.d)) * c.d;
    return { v, cs: cs.map((c) => c.n * (l / c.d)) };
  }
  // synthetic division by (q*x - p): returns quotient coefficients or null if not exact
  function divLinear(cs, p, q) {
    const outc = [];
    let carry = 0n;
    for (let i = 0; i < cs.length - 1; i++) {
      const num = cs[i] + carry * p;
      if (num % q !== 0n) return null;
      const t = num / q;
      outc.push(t);
      carry = t;
    }
    return cs[cs.length - 1] + carry * p === 0n ? outc : null;
  }
  function divisorsBig(n) { return G.divisors(n).map((d) => BigInt(d)); }
  function linearFactors(p) {
    let { v, cs } = intCoeffs(p);
    const found = [];
    let zeros = 0;
    while (cs.length > 1 && cs[cs.length - 1] === 0n) { cs = cs.slice(0, -1); zeros++; }
    if (zeros) found.push([ZERO, zeros]);
    if (cs.length > 1) {
      const ps = divisorsBig(cs[cs.length - 1] < 0n ? -cs[cs.length - 1] : cs[cs.length - 1]);
      const qs = divisorsBig(cs[0] < 0n ? -cs[0] : cs[0]);
      const seen = new Set();
      for (const q of qs) for (const p0 of ps) for (const pp of [p0, -p0]) {
        if (cs.length <= 1) break;
        const r = new R(pp, q, false);
        const key = r.toFraction();
        if (seen.has(key)) continue;
        seen.add(key);
        let m = 0, next;
        while (cs.length > 1 && (next = divLinear(cs, r.n, r.d))) { cs = next; m++; }
        if (m) found.push([r, m]);
      }
    }
    return { v, found, rest: cs };
  }
  function rootsWithMult(p) {
    return linearFactors(p).found.sort((a, b) => a[0].cmp(b[0]));
  }

  function factorString(p0) {
    const p = poly(p0);
    if (p.isConst()) return p.constant().toString();
    const { v, found, rest } = linearFactors(p);
    // primitive integer factors with positive leading coefficient; the rest of the value is the content
    const facs = [];
    for (const [r, m] of found) facs.push({ cs: r.n === 0n ? [1n, 0n] : [r.d, -r.n], m });
    let content = Q(p.coeff(v, p.degree(v)));
    for (const f of facs) content = content.div(new R(f.cs[0] ** BigInt(f.m), 1n, false));
    if (rest.length > 1) {
      let g = 0n;
      for (const c of rest) g = bgcd(g, c);
      const sgn = rest[0] < 0n ? -1n : 1n;
      const prim = rest.map((c) => (c / g) * sgn);
      facs.push({ cs: prim, m: 1 });
      content = content.div(new R(prim[0], 1n, false));
    }
    const fstr = (f) => {
      const deg = f.cs.length - 1;
      const t = f.cs.map((c, i) => [deg - i === 0 ? '' : v + ':' + (deg - i), new R(c, 1n, false)]);
      const s = new Poly(t).toString();
      const single = f.cs.filter((c) => c !== 0n).length === 1;
      const base = single ? s : '(' + s + ')';
      return f.m === 1 ? base : base + '**' + f.m;
    };
    // sympy's order: bare powers of the variable first, then by degree and coefficients
    const cmpCs = (a, b) => {
      const sa = a.cs.filter((c) => c !== 0n).length === 1, sb = b.cs.filter((c) => c !== 0n).length === 1;
      if (sa !== sb) return sa ? -1 : 1;
      if (a.cs.length !== b.cs.length) return a.cs.length - b.cs.length;
      for (let i = 0; i < a.cs.length; i++) if (a.cs[i] !== b.cs[i]) return a.cs[i] < b.cs[i] ? -1 : 1;
      return 0;
    };
    facs.sort(cmpCs);
    const body = facs.map(fstr).join('*');
    const c = content.abs();
    let s = (c.n === 1n ? '' : c.n + '*') + body + (c.d === 1n ? '' : '/' + c.d);
    return (content.n < 0n ? '-' : '') + s;
  }

  // fitPoly([a1, a2, ...], 'n', start = 1): the lowest-degree polynomial with p(start + i) = a[i]
  function fitPoly(values, v = 'n', start = 1) {
    let row = values.map((x) => Q(x));
    const heads = [];
    while (row.length) {
      heads.push(row[0]);
      if (row.every((x) => x.n === 0n)) break;
      row = row.slice(1).map((x, i) => x.sub(row[i]));
    }
    // Newton's forward form: sum of head_k * C(v - start, k)
    const t = P(v).sub(start);
    let p = Poly.const(0), basis = Poly.const(1);
    heads.forEach((h, k) => {
      if (k > 0) basis = basis.mul(t.sub(k - 1)).div(k);
      p = p.add(basis.mul(h));
    });
    return p;
  }
  // nextTerm([...]): the next value of the sequence its difference table describes
  function nextTerm(values) { return Q(fitPoly(values, 'n', 1).at(values.length + 1)); }

  // powerOf('(h**7/h)/h**(-2/13)', 'h') -> 106/13: the exponent of a product of powers of one
  // positive variable (numbers, or names of values in env, as exponents; fractions allowed)
  function powerOf(text, v, env) {
    const toks = tokenize(String(text));
    let i = 0;
    const peek = () => toks[i];
    const eat = (t) => { if (toks[i] !== t) throw new SyntaxError('expected ' + t + ' in ' + text); i++; };
    function exponent() {
      let sign = 1;
      while (peek() === '-' || peek() === '+') { if (toks[i++] === '-') sign = -sign; }
      if (peek() === '(') { i++; const e = ratio(); eat(')'); return e.mul(sign); }
      const t = toks[i++];
      if (env && t !== v && Object.prototype.hasOwnProperty.call(env, t)) return Q(env[t]).mul(sign);
      if (!/^[\d.]/.test(t || '')) throw new SyntaxError('numeric exponent expected in ' + text);
      return Q(t).mul(sign);
    }
    function ratio() {
      let e = exponent();
      while (peek() === '/' || peek() === '*') e = toks[i++] === '/' ? e.div(exponent()) : e.mul(exponent());
      return e;
    }
    function atom() {
      const t = toks[i++];
      if (t === '(') { const e = product(); eat(')'); return e; }
      if (t === v) return Q(1);
      throw new SyntaxError('unexpected ' + t + ' in ' + text);
    }
    function power() {
      let e = atom();
      while (peek() === '**') { i++; e = e.mul(exponent()); }
      return e;
    }
    function product() {
      let e = power();
      while (peek() === '*' || peek() === '/') e = toks[i++] === '*' ? e.add(power()) : e.sub(power());
      return e;
    }
    const e = product();
    if (i !== toks.length) throw new SyntaxError('unexpected ' + toks[i] + ' in ' + text);
    return e;
  }
  // showPower('h', Q(106, 13)) -> 'h**(106/13)', in sympy's printing: 1, h, h**3, h**(-2), h**(1/2)
  function showPower(v, e) {
    e = Q(e);
    if (e.n === 0n) return '1';
    if (e.eq(1)) return v;
    return e.isInt() && e.n > 0n ? v + '**' + e.n : v + '**(' + e.toFraction() + ')';
  }

  // inBase(16, 'b0 - -b1', { b0: '1ede', b1: '613' }) -> '-18cb': the expression as the question writes
  // it, its names numerals of that base (strings) or values
  const { fromBase, toBase } = G;
  function inBase(base, text, env) {
    const e = {};
    for (const k of Object.keys(env ?? {})) e[k] = typeof env[k] === 'string' ? Q(fromBase(env[k], base)) : env[k];
    const v = ev(text, e);
    if (!(v instanceof R) || !v.isInt()) throw new TypeError('inBase: ' + text + ' is not an integer');
    return toBase(v.int(), base);
  }

  const api = { Poly, P, fn, ev, inBase, solveLinear, solveLinear2, fitPoly, nextTerm, powerOf, showPower };
  for (const k of Object.keys(api)) G[k] = api[k];
})();
