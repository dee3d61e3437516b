// The statements that open a composed DeepMind question ("Let u = …", "Let f(x) = …", "Let g(t) be the
// second derivative of …", "Suppose eq[, eq].") as steps over one env object `E` of the question's
// numbers (n0, n1, …) and every name defined so far; the prelude's parser (P, ev, fn, solveLinear)
// reads the dataset's own expression text against E. The converter reads the question with its
// numbers named in reading order (tagQuestion), exactly as the policy's prompt shows it, so
// `Let u be -3/17.` becomes `E.u = ev("-n2/n3", E);` and no digit of the question reaches the code.
import type { Step } from '../../steps.ts';

export const js = JSON.stringify;

/** A number the converter writes itself (an array index, 60 minutes, a derivative's order): not one
 * of the question's, which arrive already named (n0, n1, …). */
export const lit = (n: number): string => String(n);
export const ORDINAL: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
};

/** Sentences of a question: split after `.`/`?` followed by a capital (decimals never are). */
export function sentences(q: string): string[] {
  return q.trim().split(/(?<=[.?])\s+(?=[A-Z])/);
}

/** Expression text the prelude parser reads: numbers, single-letter names, calls, + - * / ** ( ). */
export function isExprText(s: string): boolean {
  return /^[\s\w+\-*/().]+$/.test(s) && !/[A-Za-z]{2,}/.test(s) && s.trim() !== '';
}

/** Single-letter names used as values (not called) in an expression text. */
export function namesIn(s: string): string[] {
  return [...new Set([...s.matchAll(/(?<![\w.])([a-z])(?![\w(])/g)].map((m) => m[1]!))];
}

export interface Context {
  steps: Step[];
  /** Names defined in E by the statements (values and functions). */
  defined: Set<string>;
  /** The unparsed rest of the question: the part the module's own template answers. */
  rest: string;
  /** The statement sentences consumed. */
  statements: string[];
}

/** `lhs = rhs` → one prelude equation text; null when not exactly one `=`. */
function equationOk(eq: string): boolean {
  const parts = eq.split('=');
  return parts.length === 2 && isExprText(parts[0]!) && isExprText(parts[1]!);
}

/** One statement sentence as a step, or null when it is not one the converter reads. */
function statement(s: string, defined: Set<string>): Step | null {
  let m: RegExpExecArray | null;
  const body = s.replace(/\.$/, '');
  if ((m = /^Let ([a-z])\(([a-z])\) = (.+)$/.exec(body))) {
    if (!isExprText(m[3]!)) return null;
    defined.add(m[1]!);
    return { comment: [s], code: `E.${m[1]} = fn(${js(m[2])}, ${js(m[3])}, E);` };
  }
  if ((m = /^Let ([a-z])\(([a-z])\) be the (first|second|third) derivative of (.+)$/.exec(body))) {
    const [, f, x, ord, expr] = m as unknown as [string, string, string, string, string];
    if (!isExprText(expr)) return null;
    const free = namesIn(expr).filter((v) => !defined.has(v));
    const calls = [...expr.matchAll(/([a-z])\(([a-z])\)/g)].map((c) => c[2]!);
    const v = free[0] ?? calls[0] ?? x;
    if (free.length > 1) return null;
    defined.add(f);
    const d = `P(${js(expr)}, E).diff(${js(v)}, ${lit(ORDINAL[ord]!)})`;
    return {
      comment: [s],
      code: `E.${f} = fn(${js(x)}, ${v === x ? d : `${d}.subs(${js(v)}, P(${js(x)}))`});`,
    };
  }
  if ((m = /^Let ([a-z]) (?:=|be) (.+)$/.exec(body))) {
    if (!isExprText(m[2]!)) return null;
    defined.add(m[1]!);
    return { comment: [s], code: `E.${m[1]} = ev(${js(m[2])}, E);` };
  }
  if ((m = /^Suppose (.+)$/.exec(body))) {
    const eqs = m[1]!.split(/, (?=[^,]*=)/);
    if (!eqs.every(equationOk)) return null;
    const unknowns = [...new Set(eqs.flatMap((e) => namesIn(e)).filter((v) => !defined.has(v)))].sort();
    if (eqs.length === 1 && unknowns.length === 1) {
      defined.add(unknowns[0]!);
      return { comment: [s], code: `E.${unknowns[0]} = solveLinear(${js(eqs[0])}, ${js(unknowns[0])}, E);` };
    }
    if (eqs.length === 2 && unknowns.length === 2) {
      for (const u of unknowns) defined.add(u);
      return { comment: [s], code: `Object.assign(E, solveLinear2([${eqs.map((e) => js(e)).join(', ')}], E));` };
    }
    return null;
  }
  return null;
}

/**
 * Read the leading statements of a question. `numbers` are the question's number names (n0, …): the
 * first step defines E from them. Stops at the first sentence that is not a statement; null when a
 * statement-looking sentence cannot be read (the converter would be guessing).
 */
export function readContext(question: string, numbers: string[], keepLast = 1): Context | null {
  const ss = sentences(question);
  const defined = new Set<string>();
  const steps: Step[] = [];
  let i = 0;
  for (; i < ss.length - keepLast; i++) {
    if (!/^(Let|Suppose) /.test(ss[i]!)) break;
    const st = statement(ss[i]!, defined);
    if (!st) return null;
    steps.push(st);
  }
  const head = `const E = { ${numbers.join(', ')} };`.replace('{  }', '{}');
  const intro = numbers.length ? `The question's numbers as exact values, by name.` : 'Names the question defines.';
  if (steps.length) steps[0] = { comment: [intro, ...steps[0]!.comment], code: `${head}\n${steps[0]!.code}` };
  else steps.push({ comment: [intro], code: head });
  return { steps, defined, rest: ss.slice(i).join(' '), statements: ss.slice(0, i) };
}

/** Appends the final step to the context's steps, merging it into a lone E-definition step. */
export function finish(ctx: Context, last: Step): Step[] {
  if (ctx.statements.length === 0 && ctx.steps.length === 1) {
    const only = ctx.steps[0]!;
    return [{ comment: [...only.comment, ...last.comment], code: `${only.code}\n${last.code}` }];
  }
  return [...ctx.steps, last];
}
