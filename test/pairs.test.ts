// Corrupted-step preference pairs: one number or operator changed, never a comment; pair structure.
import { describe, expect, it } from 'vitest';
import { MARK, parseStep, promptFor, serializeStep } from '../src/data/steps.ts';
import { corruptCode, corruptionPairs } from '../src/train/pairs.ts';
import { mulberry32 } from '../src/util/rng.ts';

interface Tok {
  text: string;
  at: number;
  kind: 'num' | 'op' | 'other';
}

/** Split code into numbers, single-char arithmetic operators and the rest (comments kept whole). */
function lex(code: string): Tok[] {
  const out: Tok[] = [];
  const re = /\/\/[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|\s+|[-+*/]|./g;
  for (const m of code.matchAll(re)) {
    const t = m[0];
    out.push({ text: t, at: m.index!, kind: /^\d/.test(t) ? 'num' : /^[-+*/]$/.test(t) ? 'op' : 'other' });
  }
  return out;
}

/**
 * Which token of `orig` was changed to get `bad`, if `bad` is `orig` with exactly one number token
 * replaced by another number, or one operator token by another operator. Null otherwise.
 */
function changedToken(orig: string, bad: string): { tok: Tok; now: string } | null {
  for (const tok of lex(orig)) {
    if (tok.kind === 'other') continue;
    const end = tok.at + tok.text.length;
    const tail = orig.slice(end);
    if (!bad.startsWith(orig.slice(0, tok.at)) || !bad.endsWith(tail) || bad.length < tok.at + tail.length) continue;
    const now = bad.slice(tok.at, bad.length - tail.length);
    if (now === tok.text) continue;
    if (tok.kind === 'num' && /^-?\d+(?:\.\d+)?$/.test(now)) return { tok, now };
    if (tok.kind === 'op' && /^[-+*/]$/.test(now)) return { tok, now };
  }
  return null;
}

const CODES = [
  'const may = 48 / 2;',
  'const total = 48 + may;\nprint(total);',
  'const price = 3.5;\nconst cost = price * 12 - 4;',
  'const x2 = a1 + 7; // keep 10 + 3 aside\nprint(x2 / 5);',
  '// 12 apples - 4 eaten\nconst left = 12 - 4;',
  'const r = (20 - 2) * (3 + 1);\nprint(r);',
  'let n = 0;\nfor (let i = 1; i <= 5; i++) n += i * 2;\nprint(n);',
  'const s = "5 + 5 apples";\nprint(s, 5 + 5);',
  'const big = 2 ** 10;\nconst f = (v) => v - 1;\nprint(f(big));',
];

describe('corruptCode', () => {
  it('changes exactly one number (to another number) or one operator (to another operator)', () => {
    for (const code of CODES) {
      const seenKinds = new Set<string>();
      for (let seed = 1; seed <= 60; seed++) {
        const bad = corruptCode(code, mulberry32(seed));
        expect(bad, code).not.toBeNull();
        expect(bad).not.toBe(code);
        const c = changedToken(code, bad!);
        expect(c, `${JSON.stringify(code)} → ${JSON.stringify(bad)}`).not.toBeNull();
        seenKinds.add(c!.tok.kind);
      }
      // both kinds get picked over seeds when the code has both
      if (/[\w)]\s*[-+*/]\s*[\w(]/.test(code.replace(/\/\/.*$/gm, '').replace(/"[^"]*"/g, ''))) expect(seenKinds.size, code).toBe(2);
    }
  });

  it('never touches comments', () => {
    for (const code of CODES.filter((c) => c.includes('//'))) {
      const comments = (s: string) => s.split('\n').map((l) => (l.includes('//') ? l.slice(l.indexOf('//')) : ''));
      for (let seed = 1; seed <= 200; seed++) {
        const bad = corruptCode(code, mulberry32(seed))!;
        expect(comments(bad), `${JSON.stringify(code)} → ${JSON.stringify(bad)}`).toEqual(comments(code));
      }
    }
  });

  it('never touches string literals, identifiers with digits, ++, ** or =>', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const s = corruptCode(CODES[7]!, mulberry32(seed))!;
      expect(s.startsWith('const s = "5 + 5 apples";\n'), s).toBe(true);
      const x = corruptCode(CODES[3]!, mulberry32(seed))!;
      expect(x).toMatch(/^const x2 = a1 /);
      expect(x).toContain('print(x2 ');
      const loop = corruptCode(CODES[6]!, mulberry32(seed))!;
      expect(loop).toContain('i++');
      expect(loop).toContain('+=');
      const pow = corruptCode(CODES[8]!, mulberry32(seed))!;
      expect(pow).toContain('**');
      expect(pow).toContain('=>');
    }
  });

  it('returns null when there is nothing to change', () => {
    expect(corruptCode('print(total);', mulberry32(1))).toBeNull();
    expect(corruptCode('// 3 + 4\nprint(total);', mulberry32(1))).toBeNull();
    expect(corruptCode('const x = a;', mulberry32(1))).toBeNull();
  });

  it('is a function of the random stream', () => {
    for (const code of CODES) {
      expect(corruptCode(code, mulberry32(9))).toBe(corruptCode(code, mulberry32(9)));
    }
  });
});

describe('corruptionPairs', () => {
  const steps3 = [
    { comment: ['Natalia sold 48/2 clips in May.'], code: 'const may = 48 / 2;' },
    { comment: ['No numbers here.'], code: 'const sold = may;' },
    { comment: ['Altogether.'], code: 'const total = 48 + sold;\nprint(total);' },
  ];
  const trajs = [
    { problemId: 'a', question: 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?', steps: steps3.map((s, i) => serializeStep(s, i === 2)) },
    { problemId: 'b', question: 'What is 7 times 6?', steps: [serializeStep({ comment: ['Multiply.'], code: 'print(7 * 6);' }, true)] },
  ];

  it('prefix = prompt + earlier steps, positive = the original step, negative = a one-spot corruption of it', () => {
    const pairs = corruptionPairs(trajs, { seed: 5, round: 2, numbers: 'values' });
    // one pair per step that has something to corrupt (step 2 of "a" has none)
    expect(pairs.map((p) => p.problemId)).toEqual(['a', 'a', 'b']);
    const [p0, p1, p2] = pairs as [typeof pairs[0], typeof pairs[0], typeof pairs[0]];
    expect(p0.prefix).toBe(promptFor(trajs[0]!.question, 'values'));
    expect(p0.positive).toBe(trajs[0]!.steps[0]);
    // the third step's prefix includes the second step although it gave no pair
    expect(p1.prefix).toBe(promptFor(trajs[0]!.question, 'values') + trajs[0]!.steps[0] + trajs[0]!.steps[1]);
    expect(p1.positive).toBe(trajs[0]!.steps[2]);
    expect(p2.prefix).toBe(promptFor(trajs[1]!.question, 'values'));
    for (const p of pairs) {
      expect(p.negative).not.toBe(p.positive);
      const pos = parseStep(p.positive)!;
      const neg = parseStep(p.negative)!;
      // same comment, same end marker, code changed in one spot
      expect(neg.comment).toEqual(pos.comment);
      const marker = (s: string) => (s.includes(MARK.endSolution) ? MARK.endSolution : MARK.endStep);
      expect(marker(p.negative)).toBe(marker(p.positive));
      expect(changedToken(pos.code, neg.code), `${pos.code} → ${neg.code}`).not.toBeNull();
      expect(p.qPos).toBe(1);
      expect(p.qNeg).toBe(-1);
      expect(p.round).toBe(2);
    }
    // the intermediate step keeps its <end_of_step>, the last its <end_of_solution>
    expect(p0.negative.endsWith(`${MARK.endStep}\n`)).toBe(true);
    expect(p1.negative.endsWith(`${MARK.endSolution}\n`)).toBe(true);
  });

  it('is deterministic per seed and per problem (independent of the other trajectories)', () => {
    expect(corruptionPairs(trajs, { seed: 5, numbers: 'values' })).toEqual(corruptionPairs(trajs, { seed: 5, numbers: 'values' }));
    const alone = corruptionPairs([trajs[1]!], { seed: 5, numbers: 'values' });
    expect(corruptionPairs(trajs, { seed: 5, numbers: 'values' }).filter((p) => p.problemId === 'b')).toEqual(alone);
    const many = Array.from({ length: 20 }, (_, i) => ({ ...trajs[0]!, problemId: `a${i}` }));
    const negs = (seed: number) => corruptionPairs(many, { seed: seed, numbers: 'values' }).map((p) => p.negative).join('|');
    expect(negs(1)).not.toBe(negs(2));
  });
});
