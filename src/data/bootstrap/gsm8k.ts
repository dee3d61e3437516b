// GSM8K: calculator annotations `<<48/2=24>>` → one `const` per annotation, one step per line.
import type { Problem } from '../datasets.ts';
import { opPhrase, type Step } from '../steps.ts';
import { contentWords, tidy } from '../text.ts';
import { approxEqual, evalExpr, mapLeaves, mapNums, parseExpr, renderExpr, varsOf, type Expr } from './expr.ts';
import { Namer } from './names.ts';

const ANNOTATION = /<<([^<>]*)>>/g;
const ANNOTATION_TEST = /<<[^<>]*>>/;

/**
 * Some GSM8K lines compute without a calculator annotation (`Clare has $47 − $12 = $35 left.`).
 * Write the annotation in when the text before `=` is an expression (after dropping unit words) that
 * evaluates to the number after it; the check keeps prose from being misread as arithmetic.
 */
export function inferAnnotations(line: string): string {
  const eqRe = /=\s*(\$?\s*)(-?(?:\d[\d,]*)?\.?\d+)(?![\d.]*\d)/g;
  let out = '';
  let last = 0;
  for (const m of line.matchAll(eqRe)) {
    const at = m.index!;
    const prevEq = line.lastIndexOf('=', at - 1);
    const region = line.slice(Math.max(prevEq + 1, last), at);
    const stated = Number(m[2]!.replace(/,/g, ''));
    let found: string | undefined;
    for (let i = 0; i < region.length && !found; i++) {
      if (!/[\d($.]/.test(region[i]!) || (i > 0 && /[\d.]/.test(region[i - 1]!))) continue;
      const cand = region
        .slice(i)
        .replace(/\b(?!x\b)[A-Za-z][A-Za-z']*/g, ' ')
        .replace(/−/g, '-');
      if (!/[-+*/x×÷]/.test(cand)) continue;
      const e = parseExpr(cand);
      if (!e || varsOf(e).length) continue;
      const v = evalExpr(e);
      if (approxEqual(v, stated)) found = renderExpr(e);
    }
    if (found === undefined) continue;
    const resStart = at + m[0].length - m[2]!.length;
    out += line.slice(last, resStart) + `<<${found}=${m[2]!.replace(/,/g, '')}>>`;
    last = resStart;
  }
  return out + line.slice(last);
}

/**
 * GSM8K: each line with calculator annotations becomes a step: the sentence without the annotation
 * as comment, one `const` per annotation. Numbers equal to an earlier result become that result's
 * variable. Lines without annotations are context merged into the next step's comment. The last
 * step prints the variable whose value is the gold answer. Null when the solution does not convert.
 */
export function convertGsm8k(p: Problem): Step[] | null {
  const sol = p.solution ?? '';
  const gold = Number(p.answer.replace(/,/g, ''));
  if (!Number.isFinite(gold)) return null;
  const namer = new Namer();
  const results: { name: string; value: number }[] = [];
  const env: Record<string, number> = {};
  const steps: Step[] = [];
  let pending: string[] = [];

  for (const rawLine of sol.split('\n')) {
    let line = rawLine.trim();
    if (!line || /^####/.test(line)) continue;
    if (!ANNOTATION_TEST.test(line)) line = inferAnnotations(line);
    const anns = [...line.matchAll(ANNOTATION)];
    if (anns.length === 0) {
      pending.push(tidy(line));
      continue;
    }
    const codeLines: string[] = [];
    for (const a of anns) {
      const inner = a[1]!;
      const eq = inner.indexOf('=');
      const exprText = eq >= 0 ? inner.slice(0, eq) : inner;
      const stated = eq >= 0 ? Number(inner.slice(inner.lastIndexOf('=') + 1).replace(/[,$%\s]/g, '')) : NaN;
      const parsed = parseExpr(exprText);
      if (!parsed) return null;
      // The most recent earlier result with this value stands for the number (even when the
      // question happens to contain the same number: reuse is what the reference meant far more often).
      const expr = mapNums(parsed, (v) => {
        for (let i = results.length - 1; i >= 0; i--)
          if (approxEqual(results[i]!.value, v)) return { t: 'var', name: results[i]!.name };
        return { t: 'num', v };
      });
      let value: number;
      try {
        value = evalExpr(expr, env);
      } catch {
        return null;
      }
      if (!Number.isFinite(value)) return null;
      const name = namer.take(nameWordsGsm8k(line, a.index!, a[0].length));
      codeLines.push(`const ${name} = ${renderExpr(expr)};`);
      env[name] = value;
      // Only exact results stand for later numbers: a rounded annotation (10/3=3.33) would otherwise
      // shift every later value away from the reference.
      if (Number.isFinite(stated) && approxEqual(value, stated)) results.push({ name, value });
      else results.push({ name, value: NaN });
    }
    steps.push({ comment: [...pending, gsm8kComment(line)].filter(Boolean), code: codeLines.join('\n') });
    pending = [];
  }
  if (steps.length === 0) return null;
  const last = steps[steps.length - 1]!;
  if (pending.length) last.comment.push(...pending);
  // The variable holding the answer: the last one if it matches, else the latest that does.
  const names = Object.keys(env);
  let answerVar: string | undefined;
  for (let i = names.length - 1; i >= 0; i--) {
    if (approxEqual(env[names[i]!]!, gold)) {
      answerVar = names[i];
      break;
    }
  }
  if (!answerVar) return null;
  last.code += `\nprint(${answerVar});`;
  return steps;
}

/** The sentence without its annotations: `48/2 = <<48/2=24>>24 clips` → `48/2 clips`. */
function gsm8kComment(line: string): string {
  const t = line
    .replace(/\s*=\s*\$?\s*<<[^<>]*>>\s*\$?\s*-?[\d,]*(?:\.\d+)?/g, '')
    .replace(/<<[^<>]*>>/g, '')
    // the unit after the expression and the one after the removed result: `400 bugs bugs` → `400 bugs`
    .replace(/\b([A-Za-z]+)(?:\s+\1\b)+/gi, '$1');
  return tidy(t);
}

/** Name words for an annotation: the words after its result, else the words just before it. */
function nameWordsGsm8k(line: string, at: number, len: number): string[] {
  const after = line
    .slice(at + len)
    .replace(/^\s*\$?\s*-?[\d,]*(?:\.\d+)?\s*%?/, '')
    .split(/[.,;:!?=<(]/)[0]!;
  const wa = contentWords(after.split(/\s+/).slice(0, 4).join(' '));
  if (wa.length) return wa;
  const before = line
    .slice(0, at)
    .replace(/<<[^<>]*>>/g, ' ')
    .replace(/[\d\s.,+\-*/x×÷()$%=]+$/i, '');
  const wb = contentWords(before.split(/[.,;:!?]/).pop() ?? '');
  return wb.slice(-1);
}

/**
 * A GSM8K trajectory rewritten in the operation grammar MAWPS/ASDiv-A's steps use: only the
 * computations the printed answer depends on, one step per binary operation in definition order,
 * results named r1, r2, …, answer, each commented with its operation phrase. Null when the steps do
 * not parse as `const x = expr;` lines ending in `print(x);`.
 */
export function gsm8kAsOperations(steps: Step[]): Step[] | null {
  const defs = new Map<string, Expr>();
  let printed: string | undefined;
  for (const s of steps)
    for (const raw of s.code.split('\n')) {
      const line = raw.trim();
      const m = /^const ([A-Za-z_$][\w$]*) = (.+);$/.exec(line);
      const p = /^print\(([A-Za-z_$][\w$]*)\);$/.exec(line);
      if (m) {
        const e = parseExpr(m[2]!);
        if (!e) return null;
        defs.set(m[1]!, e);
      } else if (p) printed = p[1];
      else if (line) return null;
    }
  if (!printed || !defs.has(printed)) return null;
  // what the answer needs, in definition order
  const needed = new Set<string>();
  const need = (name: string): void => {
    if (needed.has(name) || !defs.has(name)) return;
    needed.add(name);
    for (const v of varsOf(defs.get(name)!)) need(v);
  };
  need(printed);
  const out: Step[] = [];
  const alias = new Map<string, Expr>();
  const walk = (e: Expr): Expr => {
    if (e.t !== 'bin') return e;
    const l = walk(e.l);
    const r = walk(e.r);
    const name = `r${out.length + 1}`;
    out.push({ comment: [opPhrase(e.op, renderExpr(l), renderExpr(r))], code: `const ${name} = ${renderExpr({ t: 'bin', op: e.op, l, r })};` });
    return { t: 'var', name };
  };
  for (const [name, e] of defs) if (needed.has(name)) alias.set(name, walk(mapLeaves(e, (x) => (x.t === 'var' ? (alias.get(x.name) ?? x) : x))));
  const last = out[out.length - 1];
  const answer = alias.get(printed);
  if (!last || answer?.t !== 'var' || answer.name !== `r${out.length}`) return null;
  last.code = last.code.replace(/^const r\d+ =/, 'const answer =') + '\nprint(answer);';
  return out;
}
