// Preference pairs for the PPM that need no search: a correct step vs the same step with one
// operation or number corrupted. Used before MCTS pairs exist (round 0) and as a sanity check that
// the PPM learns step quality; MCTS pairs come from src/search/extract.ts (buildPairs).
import { parseStep, promptFor, serializeStep, type PromptNumbers } from '../data/steps.ts';
import { hash32, mulberry32 } from '../util/rng.ts';
import type { PairRow } from '../data/arrow.ts';

/** A preference pair is a row of the Arrow pairs table. */
export type PreferencePair = PairRow;

const OPS = ['+', '-', '*', '/'];

/** Per character of `code`: true inside a comment or a string literal (not code to corrupt). */
function nonCode(code: string): boolean[] {
  const out = new Array<boolean>(code.length).fill(false);
  for (let i = 0; i < code.length; ) {
    const c = code[i]!;
    let end = i + 1;
    if (c === '/' && code[i + 1] === '/') end = code.indexOf('\n', i) < 0 ? code.length : code.indexOf('\n', i);
    else if (c === '/' && code[i + 1] === '*') end = code.indexOf('*/', i + 2) < 0 ? code.length : code.indexOf('*/', i + 2) + 2;
    else if (c === '"' || c === "'" || c === '`') {
      while (end < code.length && code[end] !== c) end += code[end] === '\\' ? 2 : 1;
      end = Math.min(code.length, end + 1);
    } else {
      i++;
      continue;
    }
    out.fill(true, i, end);
    i = end;
  }
  return out;
}

/** Change one number or one arithmetic operator in the code (never in comments or strings). Null if nothing to change. */
export function corruptCode(code: string, rand: () => number): string | null {
  const spots: { at: number; len: number; kind: 'num' | 'op' }[] = [];
  const skip = nonCode(code);
  // numbers not part of identifiers; operators between operands (skip //, ++, **, =>, unary minus)
  for (const m of code.matchAll(/(?<![\w.$])\d+(?:\.\d+)?(?![\w.])/g)) if (!skip[m.index!]) spots.push({ at: m.index!, len: m[0].length, kind: 'num' });
  for (const m of code.matchAll(/(?<=[\w)\]]\s*)[-+*/](?=\s*[\w(])/g)) if (!skip[m.index!]) spots.push({ at: m.index!, len: 1, kind: 'op' });
  if (!spots.length) return null;
  const s = spots[Math.floor(rand() * spots.length)]!;
  const old = code.slice(s.at, s.at + s.len);
  let rep: string;
  if (s.kind === 'op') {
    const others = OPS.filter((o) => o !== old);
    rep = others[Math.floor(rand() * others.length)]!;
  } else {
    const v = Number(old);
    const deltas = [1, -1, 2, 10, v === 0 ? 3 : v];
    rep = String(v + deltas[Math.floor(rand() * deltas.length)]!);
    if (rep === old) rep = String(v + 1);
  }
  return code.slice(0, s.at) + rep + code.slice(s.at + s.len);
}

/**
 * For each trajectory (question + serialized correct steps), one pair per step: the correct step vs a
 * corrupted copy, with the steps before it as the prefix. Q+ = 1, Q- = -1 by construction.
 */
export function corruptionPairs(
  trajs: { problemId: string; question: string; steps: string[] }[],
  /** numbers: the prompt style of the policy the PPM starts from. */
  { numbers, seed = 1234, round = 0 }: { numbers: PromptNumbers; seed?: number; round?: number },
): PreferencePair[] {
  const out: PreferencePair[] = [];
  for (const t of trajs) {
    const rand = mulberry32(hash32(t.problemId, seed));
    let prefix = promptFor(t.question, numbers);
    t.steps.forEach((text, k) => {
      const st = parseStep(text);
      const terminal = text.includes('<end_of_solution>');
      if (st) {
        const bad = corruptCode(st.code, rand);
        if (bad !== null && bad !== st.code) {
          out.push({ problemId: t.problemId, question: t.question, prefix, positive: text, negative: serializeStep({ ...st, code: bad }, terminal), qPos: 1, qNeg: -1, round });
        }
      }
      prefix += t.steps[k];
    });
  }
  return out;
}
