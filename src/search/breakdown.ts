// Accuracy per group of an evaluation: per DeepMind module (`module` field of the problem) and per
// regime (`split`: interpolate / extrapolate / train-*), with the mean over modules, which weighs
// every module alike as the DeepMind paper's tables do.
import type { Problem } from '../data/datasets.ts';

export interface GroupAccuracy {
  group: string;
  n: number;
  correct: number;
  accuracy: number;
}

export interface Breakdown {
  byModule: GroupAccuracy[];
  byRegime: GroupAccuracy[];
  /** Unweighted mean of the per-module accuracies. */
  meanOverModules: number;
}

/** The module and regime of a problem, from its extra fields (`module`, `split`). */
export function groupsOf(p: Pick<Problem, 'extra'>): { module?: string; regime?: string } {
  const e = p.extra ?? {};
  const module = typeof e.module === 'string' ? e.module : undefined;
  const split = typeof e.split === 'string' ? e.split : undefined;
  const regime = split === undefined ? undefined : split.startsWith('train') ? 'train' : split;
  return { ...(module ? { module } : {}), ...(regime ? { regime } : {}) };
}

function table(counts: Map<string, { n: number; correct: number }>): GroupAccuracy[] {
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, c]) => ({ group, n: c.n, correct: c.correct, accuracy: c.n ? c.correct / c.n : 0 }));
}

/**
 * Per-module and per-regime accuracy of graded rows (matched to problems by id); null when no
 * problem names a module. A problem without a row counts as wrong.
 */
export function breakdown(problems: readonly Pick<Problem, 'id' | 'extra'>[], rows: readonly { problemId: string; correct: boolean }[]): Breakdown | null {
  const right = new Map<string, boolean>();
  for (const r of rows) right.set(r.problemId, (right.get(r.problemId) ?? false) || r.correct);
  const mods = new Map<string, { n: number; correct: number }>();
  const regimes = new Map<string, { n: number; correct: number }>();
  const add = (m: Map<string, { n: number; correct: number }>, k: string, ok: boolean) => {
    const c = m.get(k) ?? { n: 0, correct: 0 };
    c.n++;
    if (ok) c.correct++;
    m.set(k, c);
  };
  for (const p of problems) {
    const g = groupsOf(p);
    const ok = right.get(p.id) ?? false;
    if (g.module) add(mods, g.module, ok);
    if (g.regime) add(regimes, g.regime, ok);
  }
  if (mods.size === 0) return null;
  const byModule = table(mods);
  return {
    byModule,
    byRegime: table(regimes),
    meanOverModules: byModule.reduce((s, g) => s + g.accuracy, 0) / byModule.length,
  };
}

/** The breakdown as printable lines: one per module, then per regime, then the mean over modules. */
export function formatBreakdown(b: Breakdown, label = ''): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);
  const row = (g: GroupAccuracy) => `  ${g.group.padEnd(42)} ${`${g.correct}/${g.n}`.padStart(9)} ${pct(g.accuracy)}`;
  const lines = [`${label ? `${label}: ` : ''}accuracy per module`, ...b.byModule.map(row)];
  if (b.byRegime.length) lines.push('per regime', ...b.byRegime.map(row));
  lines.push(`mean over ${b.byModule.length} modules: ${pct(b.meanOverModules).trim()}`);
  return lines.join('\n');
}
