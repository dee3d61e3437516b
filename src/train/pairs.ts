// Preference pairs for the PPM that need no search: a correct step vs the same step with one
// operation or number corrupted. Used before MCTS pairs exist (round 0) and as a sanity check that
// the PPM learns step quality; MCTS pairs come from src/search/extract.ts (buildPairs).
import { parseStep, promptFor, serializeStep, type PromptNumbers, type Step } from '../data/steps.ts';
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
 * A copy error, the kind a policy makes where numbers are names (DeepMind): one name (`n3`), one
 * one-letter variable or one operator inside a string literal changed to another the question
 * holds, or a bare name in code changed. The literal changes wherever the step's comment quotes
 * it too, so the step stays self-consistent and only the question shows it wrong. Null if the step
 * has nothing to change.
 */
export function corruptCopy(step: Step, prompt: string, rand: () => number): Step | null {
  const code = step.code;
  const skip = nonCode(code);
  const names = [...new Set(prompt.match(/(?<![\w$])[nw]\d+(?![\w$])/g) ?? [])];
  const letters = [...new Set(prompt.match(/(?<![\w$.])[a-z](?![\w$(])/g) ?? [])];
  const pick = (from: string[], not: string) => {
    const o = from.filter((x) => x !== not);
    return o.length ? o[Math.floor(rand() * o.length)]! : null;
  };
  type Spot = { at: number; len: number; lit: [number, number] | null; rep: string };
  const spots: Spot[] = [];
  for (const m of code.matchAll(/"([^"\\\n]*)"/g)) {
    if (code.lastIndexOf('//', m.index!) > code.lastIndexOf('\n', m.index!)) continue;
    const from = m.index! + 1;
    const lit: [number, number] = [from, from + m[1]!.length];
    for (const t of m[1]!.matchAll(/(?<![\w$])(?:[nw]\d+|[a-z])(?![\w$(])|(?<=[\w)]\s*)[-+*/](?=\s*[\w(])/g)) {
      const old = t[0];
      const rep = /^[nw]\d+$/.test(old) ? pick(names, old) : /^[a-z]$/.test(old) ? pick(letters, old) : pick(OPS, old);
      if (rep !== null) spots.push({ at: from + t.index!, len: old.length, lit, rep });
    }
  }
  // a name left out of `const E = { n0, n1 }` fails in the sandbox, which MCTS drops anyway
  const env = /^const E = \{[^}\n]*\}/m.exec(code);
  for (const m of code.matchAll(/(?<![\w$.])[nw]\d+(?![\w$])/g)) {
    if (skip[m.index!] || (env && m.index! >= env.index && m.index! < env.index + env[0].length)) continue;
    const rep = pick(names, m[0]);
    if (rep !== null) spots.push({ at: m.index!, len: m[0].length, lit: null, rep });
  }
  if (!spots.length) return null;
  const s = spots[Math.floor(rand() * spots.length)]!;
  const bad = code.slice(0, s.at) + s.rep + code.slice(s.at + s.len);
  if (!s.lit) return { comment: step.comment, code: bad };
  const before = code.slice(s.lit[0], s.lit[1]);
  const after = bad.slice(s.lit[0], s.lit[1] + s.rep.length - s.len);
  return { comment: step.comment.map((c) => c.split(before).join(after)), code: bad };
}

/**
 * For each trajectory (question + serialized correct steps), one pair per step: the correct step vs a
 * corrupted copy, with the steps before it as the prefix. Q+ = 1, Q- = -1 by construction.
 * `copies`: a copy error (corruptCopy) where the step has one, else an arithmetic one.
 */
export function corruptionPairs(
  trajs: { problemId: string; question: string; steps: string[] }[],
  /** numbers: the prompt style of the policy the PPM starts from. */
  { numbers, seed = 1234, round = 0, copies = false }: { numbers: PromptNumbers; seed?: number; round?: number; copies?: boolean },
): PreferencePair[] {
  const out: PreferencePair[] = [];
  for (const t of trajs) {
    const rand = mulberry32(hash32(t.problemId, seed));
    const prompt = promptFor(t.question, numbers);
    let prefix = prompt;
    t.steps.forEach((text, k) => {
      const st = parseStep(text);
      const terminal = text.includes('<end_of_solution>');
      if (st) {
        const copy = copies ? corruptCopy(st, prompt, rand) : null;
        const code = copy ? null : corruptCode(st.code, rand);
        const bad = copy ?? (code !== null ? { ...st, code } : null);
        const negative = bad ? serializeStep(bad, terminal) : null;
        if (negative !== null && negative !== text) {
          out.push({ problemId: t.problemId, question: t.question, prefix, positive: text, negative, qPos: 1, qNeg: -1, round });
        }
      }
      prefix += t.steps[k];
    });
  }
  return out;
}
