// DeepMind Mathematics → reference step programs over the exact-maths prelude (src/sandbox/prelude).
// A composed question's statements become one step each (deepmind/context.ts); the module's own
// question becomes the final step, which prints fmt(answer) in the dataset's format
// (deepmind/modules.ts). The converter reads the question exactly as the prompt shows it, numbers named
// by position (`n0`, `n1`, …; the sandbox defines them), so the policy names quantities and never
// copies digits, and the name in the code is the one at that place in the prompt.
import type { Problem } from '../datasets.ts';
import { questionBaseNumerals, questionNumbers, tagQuestion, type Step } from '../steps.ts';
import { finish, readContext, sentences } from './deepmind/context.ts';
import { FINALS } from './deepmind/modules.ts';

/** Module of a DeepMind problem (from `extra.module`, or the id). */
export function deepMindModule(p: Problem): string {
  const mod = (p.extra as { module?: unknown } | undefined)?.module;
  if (typeof mod === 'string') return mod;
  const m = /([a-z]+__[a-z_0-9]+)/.exec(p.id);
  return m ? m[1]! : 'unknown';
}

/** Modules convertDeepMind has a template for (each also in its `_composed` form where one exists). */
export const DEEPMIND_MODULES: readonly string[] = Object.keys(FINALS);

/** DeepMind Mathematics by template, numbers already masked; null for modules and phrasings without one. */
export function convertDeepMind(p: Problem): Step[] | null {
  // the question as the policy's prompt shows it: every number named in reading order (n0, n1, …)
  const q = tagQuestion(p.question, 'names');
  const mod = deepMindModule(p).replace(/_composed$/, '');
  const final = FINALS[mod];
  if (!final) return null;
  const names = [...questionNumbers(p.question), ...questionBaseNumerals(p.question)].map((n) => n.name);
  // "Suppose <equation> = 0. What is x?": the equation is the question, not a statement
  const ss = sentences(q);
  const keepLast = mod === 'algebra__polynomial_roots' && /^(?:What is|Calculate|Determine|Find|Give) [a-z][.?]$/.test(ss[ss.length - 1]!) ? 2 : 1;
  const ctx = readContext(q, names, keepLast);
  if (!ctx) return null;
  const last = final(ctx.rest, ctx);
  return last ? finish(ctx, last) : null;
}
