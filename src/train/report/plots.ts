// The report's plots: vega-lite specs rendered to SVG in Node (vega View, renderer 'none'), so the
// page shows them without any script or network.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { devSources, type RoundMetrics, type Stage } from '../report.ts';
import type { CurvePoint, RunData } from './data.ts';

export interface Plot {
  id: string;
  title: string;
  /** The chart, or absent when the run has nothing to plot (then `note` says why). */
  svg?: string;
  note?: string;
}

type Row = Record<string, string | number>;

const WIDTH = 340;
const HEIGHT = 200;
const CONFIG = { font: 'system-ui, sans-serif', axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 320 }, view: { stroke: '#ddd' } };

export async function toSVG(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Lines over rounds, one per series, a point at every round (one round still shows). */
function perRound(rows: Row[], o: { y: string; percent?: boolean; domain?: [number, number] }): TopLevelSpec {
  return {
    width: WIDTH, height: HEIGHT, config: CONFIG,
    data: { values: rows },
    mark: { type: 'line', point: { size: 50 } },
    encoding: {
      x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
      y: { field: 'value', type: 'quantitative', title: o.y, ...(o.percent ? { axis: { format: '.0%' } } : {}), scale: o.domain ? { domain: o.domain } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: null },
    },
  };
}

/** One series value per round where the metric exists. */
function seriesRows(rounds: RoundMetrics[], series: [name: string, get: (m: RoundMetrics) => number | null | undefined][]): Row[] {
  return series.flatMap(([name, get]) => rounds.flatMap((m) => {
    const v = get(m);
    return typeof v === 'number' && Number.isFinite(v) ? [{ round: m.round, series: name, value: v }] : [];
  }));
}

/** Greedy and MCTS + PPM of each dev source, for runs that report on more than one. */
function perSource(rounds: RoundMetrics[]): [string, (m: RoundMetrics) => number | null | undefined][] {
  return devSources(rounds).flatMap((s): [string, (m: RoundMetrics) => number | null | undefined][] => [
    [`${s}: greedy`, (m) => m.devBySource?.[s]?.greedy], [`${s}: MCTS + PPM`, (m) => m.devBySource?.[s]?.mcts],
  ]);
}

/** Every numeric metric about synthesised problems (names containing "synth"; nested objects flattened). */
function synthesisRows(rounds: RoundMetrics[]): Row[] {
  const out: Row[] = [];
  const walk = (round: number, o: Record<string, unknown>, prefix: string, inSynth: boolean) => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix ? `${prefix}.${k}` : k;
      const synth = inSynth || /synth/i.test(k);
      if (typeof v === 'number' && synth && Number.isFinite(v)) out.push({ round, series: name, value: v });
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(round, v as Record<string, unknown>, name, synth);
    }
  };
  for (const m of rounds) walk(m.round, m as unknown as Record<string, unknown>, '', false);
  return out;
}

const STAGES: [Stage, string][] = [['search', 'MCTS search'], ['sft', 'SFT'], ['ppm', 'PPM'], ['eval', 'dev evaluation']];

function wallRows(d: RunData): Row[] {
  const rows: Row[] = [];
  if (d.round0Seconds !== null) rows.push({ round: '0', stage: 'round 0 (bootstrap SFT)', minutes: d.round0Seconds / 60, order: 0 });
  for (const m of d.rounds) {
    const st = m.stageSeconds;
    if (st && Object.keys(st).length) {
      STAGES.forEach(([s, label], i) => { if (st[s]) rows.push({ round: String(m.round), stage: label, minutes: st[s]! / 60, order: i + 1 }); });
    } else rows.push({ round: String(m.round), stage: 'total (not split by stage)', minutes: m.wallSeconds / 60, order: 9 });
  }
  return rows;
}

/** At most `max` points per round and kind (every k-th, and the last). */
function thin(points: CurvePoint[], max = 300): CurvePoint[] {
  const groups = new Map<string, CurvePoint[]>();
  for (const p of points) {
    const key = `${p.round}:${p.kind}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(p);
  }
  return [...groups.values()].flatMap((g) => {
    if (g.length <= max) return g;
    const every = Math.ceil(g.length / max);
    return g.filter((_, i) => i % every === 0 || i === g.length - 1);
  });
}

function lossCurves(points: CurvePoint[], evalName: string): TopLevelSpec {
  const rows = thin(points).map((p) => ({ round: `round ${p.round}`, step: p.step, loss: p.loss, kind: p.kind === 'train' ? 'training batch' : evalName }));
  const enc = {
    x: { field: 'step', type: 'quantitative' as const, title: 'step' },
    y: { field: 'loss', type: 'quantitative' as const, title: 'loss', scale: { zero: false } },
    color: { field: 'round', type: 'nominal' as const, title: null, sort: null },
  };
  return {
    width: WIDTH, height: HEIGHT, config: CONFIG, data: { values: rows },
    layer: [
      { transform: [{ filter: "datum.kind === 'training batch'" }], mark: { type: 'line', strokeWidth: 1, opacity: 0.8 }, encoding: enc },
      { transform: [{ filter: `datum.kind === ${JSON.stringify(evalName)}` }], mark: { type: 'point', filled: true, size: 36 }, encoding: { ...enc, shape: { field: 'kind', type: 'nominal', title: null } } },
    ],
  };
}

/** The report's plots in page order; a plot without data carries a note instead of a chart. */
export async function renderPlots(d: RunData): Promise<Plot[]> {
  const r = d.rounds;
  const specs: { id: string; title: string; rows: unknown[]; spec: () => TopLevelSpec; empty: string }[] = [
    {
      id: 'coverage', title: 'Training coverage (problems with a correct trajectory)', empty: 'no finished round yet',
      rows: seriesRows(r, [['train coverage', (m) => m.trainCoverage]]),
      spec() { return perRound(this.rows as Row[], { y: 'share of searched problems', percent: true, domain: [0, 1] }); },
    },
    {
      id: 'dev-accuracy', title: 'Dev accuracy by answer source', empty: 'no dev evaluation yet',
      rows: seriesRows(r, [
        ['greedy (policy alone)', (m) => m.devGreedy], ['greedy, irrelevant sentence added', (m) => m.devGreedyDistractor],
        ['MCTS + PPM (best-Q terminal)', (m) => m.devMcts], ['MCTS + PPM, Q-weighted vote', (m) => m.devMctsQVote],
        ...perSource(r),
      ]),
      spec() { return perRound(this.rows as Row[], { y: 'accuracy', percent: true }); },
    },
    {
      id: 'ppm-accuracy', title: 'PPM pair accuracy', empty: 'no PPM pair accuracy recorded',
      rows: seriesRows(r, [['held-out pairs of training problems', (m) => m.ppmAccuracy], ['pairs of unseen dev problems', (m) => m.ppmDevPairAccuracy]]),
      spec() { return perRound(this.rows as Row[], { y: 'pairs ranked right', percent: true }); },
    },
    {
      id: 'synthesis', title: 'Problems added / kept by synthesis', empty: 'this run recorded no synthesis metrics',
      rows: synthesisRows(r),
      spec() { return perRound(this.rows as Row[], { y: 'problems' }); },
    },
    {
      id: 'wall', title: 'Wall time by stage', empty: 'no wall time recorded',
      rows: wallRows(d),
      spec() {
        return {
          width: WIDTH, height: HEIGHT, config: CONFIG, data: { values: this.rows as Row[] },
          mark: 'bar',
          encoding: {
            x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
            y: { field: 'minutes', type: 'quantitative', title: 'minutes', stack: 'zero' },
            color: { field: 'stage', type: 'nominal', title: null, sort: { field: 'order' } },
            order: { field: 'order', type: 'quantitative' },
          },
        };
      },
    },
    {
      id: 'sft-loss', title: 'Policy SFT loss (round-K/sft-train)', empty: 'no SFT metrics.jsonl found',
      rows: d.sft, spec() { return lossCurves(d.sft, 'dev loss'); },
    },
    {
      id: 'ppm-loss', title: 'PPM training loss (round-K/ppm-train)', empty: 'no PPM metrics.jsonl found',
      rows: d.ppm, spec() { return lossCurves(d.ppm, 'held-out pair loss'); },
    },
  ];
  const out: Plot[] = [];
  for (const s of specs) out.push(s.rows.length ? { id: s.id, title: s.title, svg: await toSVG(s.spec()) } : { id: s.id, title: s.title, note: s.empty });
  return out;
}
