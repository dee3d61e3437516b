// The value a step computes, for the PPM. Every step already runs in the sandbox (step verification);
// the PPM also reads what the newest step produced: the number it printed (a terminal step) or the
// number bound by its last `const`/`let`/`var` (any other step). Why: on problems no model trained on,
// a 1 M-parameter PPM ranked 63 % of MCTS pairs right from text alone, and a quarter of those pairs
// had a losing step whose value was negative while no winning one was (MAWPS/ASDiv-A answers are
// counts and amounts). Reading the execution result is the code-augmented part of the PPM's input.
//
// The value is recomputed from the scored text itself (prompt + steps, exactly what the PPM sees), so
// training pairs, MCTS nodes and best-of-N solutions all get it the same way. What the PPM makes of a
// value is `valueFeatures` in src/model/ppm.ts.
import { MARK, isTerminal, promptQuestion, numberPrelude, parseSolution, stripComments } from '../data/steps.ts';
import type { SandboxPool } from '../sandbox/sandbox.ts';

const DECLARED = /(?:^|[^\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=/g;

/**
 * What the sandbox runs to get the newest step's value from "prompt + steps" text: the question's
 * number prelude, every step's code, then (for a step that does not print) a print of the name it
 * bound last. Null when the text has no step or the newest step binds nothing.
 */
export function valueProgram(text: string, question?: string): string[] | null {
  const q0 = text.indexOf(MARK.question);
  const s0 = text.indexOf(MARK.solution);
  if (q0 < 0 || s0 < q0) return null;
  // the numbers' values: from the question when the caller has it; otherwise from the prompt, which
  // tags them as `n0=56` (untagged, it gives the same prelude MCTS runs)
  const q = question ?? promptQuestion(text).replace(/(?<![\w.])n\d+=(?=\d)/g, '');
  const { steps } = parseSolution(text.slice(s0 + MARK.solution.length));
  if (!steps.length) return null;
  const last = steps[steps.length - 1]!;
  const codes = steps.map((s) => s.code);
  if (!isTerminal(last)) {
    const names = [...stripComments(last.code).matchAll(DECLARED)];
    if (!names.length) return null;
    codes.push(`print(${names[names.length - 1]![1]});`);
  }
  const pre = numberPrelude(q);
  return pre ? [pre, ...codes] : codes;
}

/** The newest step's numeric value for each text (null: none, not a number, or the code failed). */
export async function stepValues(sandbox: Pick<SandboxPool, 'runMany'>, texts: string[], questions?: string[]): Promise<(number | null)[]> {
  if (questions && questions.length !== texts.length) throw new Error(`stepValues: ${texts.length} texts but ${questions.length} questions`);
  const progs = texts.map((t, i) => valueProgram(t, questions?.[i]));
  const idx = progs.flatMap((p, i) => (p ? [i] : []));
  const res = idx.length ? await sandbox.runMany(idx.map((i) => progs[i]!)) : [];
  const out = new Array<number | null>(texts.length).fill(null);
  idx.forEach((i, j) => {
    const r = res[j]!;
    if (!r.ok || r.answer === undefined || r.answer.trim() === '') return;
    const v = Number(r.answer);
    out[i] = Number.isFinite(v) ? v : null;
  });
  return out;
}
