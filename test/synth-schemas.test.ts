// Schema problems: seeded, varied, answers that are their equations, and references the existing
// MAWPS converter turns into verified trajectories.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, convertProblem } from '../src/data/bootstrap/index.ts';
import { evalExpr, formatNumber, parseExpr } from '../src/data/bootstrap/expr.ts';
import { loadDataset, splitDev } from '../src/data/datasets.ts';
import { dropSimilar, groupedSplit, similarityBands } from '../src/data/groups.ts';
import { questionNumbers } from '../src/data/steps.ts';
import { SCHEMAS, schemaOf, schemaProblem, schemaProblems, synthesizeSchemas } from '../src/data/synth/schemas.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

let pool: SandboxPool;
beforeAll(() => {
  pool = new SandboxPool({ workers: 1, timeoutMs: 3000 });
});
afterAll(async () => {
  await pool.close();
});

const draws = synthesizeSchemas(1000, { seed: 11 });

describe('schema problems', () => {
  it('are a pure function of (seed, index)', () => {
    expect(synthesizeSchemas(1000, { seed: 11 })).toEqual(draws);
    expect(schemaProblem(537, { seed: 11 })).toEqual(draws[537]);
    const it5 = schemaProblems({ seed: 11, start: 995 });
    expect([0, 1, 2, 3, 4].map(() => it5.next().value)).toEqual(draws.slice(995));
    expect(synthesizeSchemas(50, { seed: 12 }).map((p) => p.question)).not.toEqual(draws.slice(0, 50).map((p) => p.question));
  });

  it('vary: distinct questions, every schema and many of its variants, chains of 2–5 operations', () => {
    expect(new Set(draws.map((p) => p.question)).size).toBeGreaterThanOrEqual(990);
    expect(new Set(draws.map(schemaOf))).toEqual(new Set(SCHEMAS));
    const variants = new Set(draws.map((p) => `${schemaOf(p)}/${p.extra!.variant}`));
    expect(variants.size).toBeGreaterThanOrEqual(30);
    const chainOps = new Set(draws.filter((p) => schemaOf(p) === 'chain').map((p) => p.extra!.ops));
    expect(chainOps).toEqual(new Set([2, 3, 4, 5]));
    expect(draws.filter((p) => /years old|miles from the city|benches|houses on the street|classrooms|cousins|rained|piano|open \d+ hours|walk to school/.test(p.question)).length).toBeGreaterThan(150);
    expect(new Set(draws.map((p) => p.extra!.equation_template)).size).toBeGreaterThanOrEqual(40);
    for (const p of draws) expect(p.question.trim().endsWith('?')).toBe(true);
  });

  it('two-step: a rate times a sum or a remainder, a sum or a remainder in equal groups, groups plus or minus one amount, a unit price scaled', () => {
    // the operation shape of each equation, numbers masked: ( n + n ) * n and n * ( n + n ) are one shape
    const shape = (eq: string) => {
      const e = eq.replace(/\d+(?:\.\d+)?/g, 'n');
      const m = /^n ([*]) \( (n [-+*/] n) \)$/.exec(e);
      return m ? `( ${m[2]} ) ${m[1]} n` : e;
    };
    const shapes = new Set(draws.filter((p) => schemaOf(p) === 'two-step').map((p) => shape(p.solution!)));
    expect(shapes).toEqual(new Set(['( n + n ) * n', '( n - n ) * n', '( n + n ) / n', '( n - n ) / n', '( n * n ) + n', '( n * n ) - n', '( n / n ) * n']));
  });

  it('answer = the equation evaluated: positive, exact, at most two decimals; numbers written once', () => {
    for (const p of draws) {
      const v = evalExpr(parseExpr(p.solution!)!);
      expect(formatNumber(v)).toBe(p.answer);
      expect(v).toBeGreaterThan(0);
      expect(Math.abs(v * 100 - Math.round(v * 100))).toBeLessThan(1e-6);
      const nums = questionNumbers(p.question).map((n) => n.value);
      expect(new Set(nums).size).toBe(nums.length);
    }
  });

  it('convert with the MAWPS converter, every question number masked, and verify (≥ 95 % per schema)', async () => {
    const some = draws.slice(0, 50 * SCHEMAS.length);
    for (const p of some) {
      const code = convertProblem(p)!.map((s) => s.code).join('\n');
      // only the percent schema's 100 stays a literal
      expect(code.replace(/\b100\b/g, '').match(/(?<![\w.])\d/)).toBeNull();
    }
    const r = await bootstrap(some, pool);
    for (const s of SCHEMAS) {
      const y = r.yieldBy[`mawps-synth-${s}`]!;
      expect(y.tried).toBe(50);
      expect(y.kept / y.tried).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('never equal a dev question, and dropSimilar removes those close to one', () => {
    const all = loadDataset('mawps');
    const norm = (q: string) => q.toLowerCase().replace(/\s+/g, ' ').replace(/ ([.,?!])/g, '$1').trim();
    const devQ = new Set([...splitDev(all).dev, ...groupedSplit(all).dev].map((p) => norm(p.question)));
    for (const p of draws) expect(devQ.has(norm(p.question))).toBe(false);
    const dev = splitDev(all).dev;
    const kept = dropSimilar(draws, dev, 0.5);
    expect(kept.length).toBeGreaterThan(800);
    expect(similarityBands(kept, dev, [0.5]).counts[0]).toBe(0);
  });
});
