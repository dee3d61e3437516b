// MAWPS / ASDiv-A: infix equation over the question's numbers → one step per binary operation.
import type { Problem } from '../datasets.ts';
import { opPhrase, type BinOp, type Step } from '../steps.ts';
import { askedNoun, contentWords, sentencesOf, tidy } from '../text.ts';
import { approxEqual, parseExpr, renderExpr, type Expr } from './expr.ts';
import { Namer } from './names.ts';

const OP_WORD: Record<BinOp, string> = {
  '+': 'sum',
  '-': 'difference',
  '*': 'product',
  '/': 'quotient',
  '%': 'remainder',
  '**': 'power',
};


/** The noun right after a number in the question (`56 books` → books). */
function nounAfter(question: string, v: number): string | undefined {
  const re = /(\d[\d,]*(?:\.\d+)?|\.\d+)\s+((?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+)/g;
  for (const m of question.matchAll(re)) {
    if (!approxEqual(Number(m[1]!.replace(/,/g, '')), v)) continue;
    const w = contentWords(m[2]!.replace(/-/g, ' '));
    if (w.length) return w[0];
  }
  return undefined;
}


/**
 * MAWPS/ASDiv-A: one step per binary operation of the equation, in evaluation order. A step's comment
 * is the question sentence that mentions its numbers (the asking sentence for the last step) plus
 * what the operation does.
 */
export function convertMawps(p: Problem): Step[] | null {
  const eq = parseExpr(p.solution ?? '');
  if (!eq) return null;
  const sentences = sentencesOf(p.question);
  const asking =
    sentences.find((s) => /\?\s*$/.test(s)) ??
    sentences.find((s) => /\bhow\b|\bwhat\b|\bfind\b/i.test(s)) ??
    sentences[sentences.length - 1] ??
    '';
  const namer = new Namer();
  const steps: Step[] = [];
  const used = new Set<string>();

  // Post-order walk; each operation node becomes a step and is replaced by its variable.
  const walk = (e: Expr, isRoot: boolean): Expr => {
    if (e.t === 'num' || e.t === 'var') return e;
    if (e.t === 'neg') {
      const inner = walk(e.e, false);
      return { t: 'neg', e: inner };
    }
    const l = walk(e.l, false);
    const r = walk(e.r, false);
    const node: Expr = { t: 'bin', op: e.op, l, r };
    // Only what the operation does: copying question sentences into comments costs a small
    // policy many tokens and teaches it nothing about which quantities to combine.
    const comment: string[] = [];
    const show = (x: Expr): string => renderExpr(x);
    comment.push(opPhrase(e.op, show(l), show(r)));
    // Short systematic names (r1, r2, …, answer): a small policy must copy a name wherever it uses a
    // result, and invented nouns ("differencePigs") are where it failed most.
    const name = isRoot ? 'answer' : `r${steps.length + 1}`;
    steps.push({ comment, code: `const ${name} = ${renderExpr(node)};` });
    return { t: 'var', name };
  };
  const root = walk(eq, true);
  if (steps.length === 0) {
    // A bare number (rare): one step that states it.
    const name = namer.take([askedNoun(p.question) ?? 'answer']);
    steps.push({ comment: [tidy(asking)], code: `const ${name} = ${renderExpr(root)};` });
    steps[0]!.code += `\nprint(${name});`;
    return steps;
  }
  const last = steps[steps.length - 1]!;
  last.code += `\nprint(${renderExpr(root)});`;
  return steps;
}

