// The chance-hit check of the training searches (they know the answer). A small policy's program can print a word problem's
// answer without computing it: GSM8K's training searches marked right programs such as `n0 - 1`,
// `r1 / 1`, `n0 - r2`, `r3 - r4` for "three-fourths are red, one-fourth of the rest yellow". Asked
// again with the question's numbers changed, such a program and the reference program answer
// differently; a program that computes what the reference computes does not. So a training problem
// with a reference program gets number variants (each question value moved, the reference's answer to
// each), and a terminal counts right only when it also answers every variant as the reference does.
//
// A literal in code that equals a question value moves with it, in both programs: GSM8K's references
// name "twice" by the question's 2 when the question has one (`n1 * n1`), where a policy may write the 2
// (`n1 * 2`); moving both keeps that choice out of the verdict. A reference with any other literal
// beyond a few word constants (1-12, 100, 1000, 60, 24, 52, 365, 0.5, 0.25, 0.01) carries a result worked
// out by hand (`53 - n2`, `n0 / 0.4` for 40 %) and would answer a variant wrongly: it gets none.
import { programOf, questionNumbers, stripComments, withNumbers } from '../data/steps.ts';
import { mulberry32 } from '../util/rng.ts';

/** What the check runs programs on (mcts.ts's SandboxLike; not imported: mcts.ts imports this file). */
interface Runner {
  run(codeSteps: string[]): Promise<{ ok: boolean; answer?: string }>;
  runMany?(batch: string[][]): Promise<{ ok: boolean; answer?: string }[]>;
}

export interface NumberVariant {
  /** The question with its numbers moved. */
  question: string;
  /** Each moved question value: [old, new] (a code literal equal to old reads new). */
  moved: readonly (readonly [number, number])[];
  /** What the reference program prints for this variant. */
  answer: string;
}

const WORD_CONSTANTS = new Set([...Array.from({ length: 12 }, (_, i) => i + 1), 100, 1000, 60, 24, 52, 365, 0.5, 0.25, 0.01]);
// a numeric literal in code (not part of a name such as r1 or n0)
const LITERAL = /(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g;

/** The steps' code with every literal equal to a moved question value written as its new value. */
export function moveLiterals(codes: readonly string[], moved: NumberVariant['moved']): string[] {
  const to = new Map(moved);
  return codes.map((c) => c.split('\n').map((line) => (line.trimStart().startsWith('//') ? line : line.replace(LITERAL, (m) => {
    const v = to.get(Number(m));
    return v === undefined ? m : String(v);
  }))).join('\n'));
}

/** Whether a reference program's literals are all question values or word constants (else it has a
 *  hand-worked result in it, and its answer to a variant would be wrong). */
export function referenceMovesWithNumbers(question: string, codes: readonly string[]): boolean {
  const values = new Set(questionNumbers(question).map((n) => n.value));
  const lits = codes.flatMap((c) => stripComments(c).match(LITERAL) ?? []);
  return lits.every((l) => values.has(Number(l)) || WORD_CONSTANTS.has(Number(l)));
}

/** `count` variants of a question with a reference program, seeded: each distinct question value moved up
 *  by 1-9 units of its last written digit (equal values stay equal), and the reference's answer to each.
 *  None when the reference does not move with its numbers, the question has no numbers, or a variant
 *  does not run. */
export async function numberVariants(
  o: { question: string; reference: readonly string[]; sandbox: Runner; count: number; seed: number },
): Promise<NumberVariant[]> {
  const nums = questionNumbers(o.question);
  if (!nums.length || !referenceMovesWithNumbers(o.question, o.reference)) return [];
  const rand = mulberry32(o.seed);
  const out: NumberVariant[] = [];
  for (let i = 0; i < o.count; i++) {
    const to = new Map<number, number>();
    for (const n of nums) {
      if (to.has(n.value)) continue;
      const decimals = n.text.split('.')[1]?.length ?? 0;
      to.set(n.value, Number((n.value + (1 + Math.floor(rand() * 9)) / 10 ** decimals).toFixed(decimals)));
    }
    const question = withNumbers(o.question, nums.map((n) => to.get(n.value)!));
    if (question === null) return [];
    const moved = [...to];
    const res = await o.sandbox.run(programOf(question, moveLiterals(o.reference, moved)));
    if (!res.ok || res.answer === undefined) return [];
    out.push({ question, moved, answer: res.answer });
  }
  return out;
}

/** Whether a program (the steps' code) answers every variant as the reference does. */
export async function answersVariants(codes: readonly string[], variants: readonly NumberVariant[], sandbox: Runner, grade: (pred: string, gold: string) => boolean): Promise<boolean> {
  const runs = variants.map((v) => programOf(v.question, moveLiterals(codes, v.moved)));
  const res = sandbox.runMany ? await sandbox.runMany(runs) : await Promise.all(runs.map((r) => sandbox.run(r)));
  return res.every((r, i) => r.ok && r.answer !== undefined && grade(r.answer, variants[i]!.answer));
}
