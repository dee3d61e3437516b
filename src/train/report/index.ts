// `rstar report runs/NAME` → runs/NAME/report/index.html: one self-contained page (no network, opens
// from disk) with the run's plots (SVG rendered here by vega), its rounds table, an explorer of saved
// MCTS trees and the per-problem dev results. self-evolve rewrites it after every round.
//
// The page's script (page.ts, with d3-hierarchy) is bundled by esbuild's JS API in memory when the
// report is written, once per process: nothing is prebuilt, so the page can never run a stale bundle
// of an edited page.ts, and no build output is left in the tree.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../util/fsx.ts';
import { fmtTime } from '../../util/progress.ts';
import { roundsTableCells, type RoundMetrics } from '../report.ts';
import { loadRun, TREE_LIMITS, type RunData, type TreeLimits } from './data.ts';
import { renderPlots, type Plot } from './plots.ts';
import type { PageData } from './types.ts';

export interface ReportOptions {
  /** The run folder (self-evolve --out). */
  run: string;
  /** Where index.html goes; default <run>/report/index.html. */
  out?: string;
  /** Which saved trees the page carries (data.ts TREE_LIMITS). */
  trees?: Partial<TreeLimits>;
}

export interface ReportResult {
  file: string;
  bytes: number;
  plots: number;
  trees: number;
  treeNote: string;
}

const PAGE = fileURLToPath(new URL('./page.ts', import.meta.url));
let bundle: Promise<string> | null = null;

/** page.ts and its imports as one browser script. */
export function pageScript(): Promise<string> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({ entryPoints: [PAGE], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2020', minify: true, legalComments: 'none', logLevel: 'silent' });
    // inline in a <script>: the sequence that would end the element must not occur
    return r.outputFiles[0]!.text.replace(/<\/(script)/gi, '<\\/$1');
  })();
  bundle.catch(() => (bundle = null));
  return bundle;
}

export async function writeReport(o: ReportOptions): Promise<ReportResult> {
  const d = loadRun(o.run, { ...TREE_LIMITS, ...o.trees });
  const plots = await renderPlots(d);
  const page: PageData = { run: path.basename(path.resolve(o.run)), generated: new Date().toISOString(), results: d.results, trees: d.trees, treeNote: d.treeNote };
  const html = pageHtml(d, page, plots, await pageScript());
  const file = o.out ?? path.join(o.run, 'report', 'index.html');
  writeFileAtomic(file, html);
  return { file, bytes: Buffer.byteLength(html), plots: plots.filter((p) => p.svg).length, trees: d.trees.length, treeNote: d.treeNote };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside <script type="application/json">: no '<' at all, so nothing can close the element. */
const inlineJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

function roundsTableHtml(rows: RoundMetrics[], round0: number | null): string {
  if (!rows.length) return '<p class="note">No round has finished yet.</p>';
  const { head, body } = roundsTableCells(rows);
  return `<div class="scroll"><table class="rounds"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`
    + (round0 === null ? '' : `<p class="note">Round 0 (bootstrap SFT of policy-r0): ${esc(fmtTime(round0))}. Dev = ${rows[rows.length - 1]!.devN} problems.</p>`);
}

function pageHtml(d: RunData, page: PageData, plots: Plot[], script: string): string {
  const m = d.meta;
  const title = `rstar-ts run report: ${page.run}`;
  const plotHtml = plots.map((p) => `<figure class="plot" data-plot="${p.id}"><figcaption>${esc(p.title)}</figcaption>${p.svg ?? `<p class="note">${esc(p.note ?? '')}</p>`}</figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>${esc(title)}</h1>
<p class="meta">${[m.preset ? `preset ${m.preset}` : '', m.seed !== undefined ? `seed ${m.seed}` : '', `${d.rounds.length} round${d.rounds.length === 1 ? '' : 's'} finished`, `written ${page.generated.replace('T', ' ').slice(0, 19)} UTC`].filter(Boolean).map(esc).join(' · ')}</p>
<nav><a href="#rounds">rounds</a> <a href="#plots">plots</a> <a href="#explorer">tree explorer</a> <a href="#results">dev results per problem</a></nav></header>
<section id="rounds"><h2>Rounds</h2>${roundsTableHtml(d.rounds, d.round0Seconds)}</section>
<section id="plots"><h2>Plots</h2><div class="plots">${plotHtml}</div></section>
<section id="explorer"><h2>Tree explorer</h2>
<p class="note" id="tree-note"></p>
<p class="note">Green: terminal with the right answer; red: wrong answer; grey: dead end. Orange: the chosen trajectory (path to the best-Q terminal, the search's answer). Click a circle to fold or unfold its subtree, a label to see the step.</p>
<div class="explorer">
<aside class="picker"><input id="tree-search" type="search" placeholder="search: problem id or words of the question" autocomplete="off">
<select id="tree-kind"><option value="">dev + training trees</option><option value="dev">dev trees</option><option value="train">training trees</option></select>
<div id="tree-count" class="note"></div><ul id="tree-list"></ul></aside>
<div class="tree-main"><div id="tree-head"></div>
<div class="tools"><button id="expand-all">expand all</button> <button id="collapse-all">collapse all</button> <button id="chosen-only">chosen path only</button></div>
<div id="tree-view"></div></div>
<aside id="node-detail"></aside>
</div></section>
<section id="results"><h2>Dev results per problem</h2>
<p><select id="results-round"></select> <select id="results-filter"><option value="">all problems</option><option value="onlyMcts">right only under MCTS + PPM</option><option value="onlyGreedy">right only greedy</option><option value="both">right under both</option><option value="neither">right under neither</option></select> <span id="results-shown" class="note"></span></p>
<p id="results-counts" class="note"></p>
<div class="scroll tall"><table id="results-table" class="results"></table></div></section>
<script type="application/json" id="report-data">${inlineJson(page)}</script>
<script>${script}</script>
</body></html>
`;
}

const CSS = `
:root { --right: #1a9641; --wrong: #d7191c; --chosen: #f28e2b; --muted: #666; font-family: system-ui, sans-serif; font-size: 14px; color: #222; }
body { margin: 0 auto; max-width: 1500px; padding: 0 16px 40px; }
header h1 { font-size: 22px; margin: 16px 0 4px; }
nav a { margin-right: 12px; }
h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
.note, .meta { color: var(--muted); font-size: 13px; }
.scroll { overflow: auto; } .scroll.tall { max-height: 560px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #e2e2e2; padding: 3px 7px; text-align: left; vertical-align: top; font-size: 13px; }
th { background: #f6f6f6; position: sticky; top: 0; }
.plots { display: flex; flex-wrap: wrap; gap: 14px; }
figure.plot { margin: 0; padding: 8px; border: 1px solid #e6e6e6; border-radius: 4px; }
figure.plot figcaption { font-weight: 600; margin-bottom: 4px; }
.explorer { display: grid; grid-template-columns: 260px minmax(0, 1fr) 320px; gap: 12px; align-items: start; }
.picker input, .picker select { width: 100%; box-sizing: border-box; margin-bottom: 6px; padding: 4px; }
#tree-list { list-style: none; margin: 0; padding: 0; max-height: 640px; overflow: auto; border: 1px solid #e6e6e6; }
#tree-list li { padding: 4px 6px; border-bottom: 1px solid #eee; cursor: pointer; }
#tree-list li:hover { background: #f3f7ff; } #tree-list li.active { background: #e3ecff; }
#tree-list .q { color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge { display: inline-block; width: 16px; text-align: center; font-weight: bold; }
.right, .badge.right { color: var(--right); } .wrong, .badge.wrong { color: var(--wrong); } .badge.none { color: var(--muted); }
#tree-view { overflow: auto; max-height: 720px; border: 1px solid #e6e6e6; background: #fcfcfc; }
#tree-head h3 { margin: 0 0 4px; font-size: 16px; } #tree-head p { margin: 2px 0; }
.question { font-style: italic; }
.tools { margin: 6px 0; }
svg .edge { fill: none; stroke: #b9b9b9; stroke-width: 1.2; }
svg .edge.chosen { stroke: var(--chosen); stroke-width: 3; }
svg g.node { cursor: pointer; }
svg g.node circle { fill: #fff; stroke: #777; stroke-width: 1.5; }
svg g.node.inner circle { fill: #dde6f3; }
svg g.node.collapsed circle { fill: #7a8ca8; }
svg g.node.terminal.right circle { fill: var(--right); stroke: var(--right); }
svg g.node.terminal.wrong circle { fill: var(--wrong); stroke: var(--wrong); }
svg g.node.dead circle { fill: #bbb; stroke: #999; }
svg g.node.chosen circle { stroke: var(--chosen); stroke-width: 3; }
svg g.node.selected circle { stroke: #000; stroke-width: 3; }
svg g.node text { font-size: 11px; fill: #222; paint-order: stroke; stroke: #fcfcfc; stroke-width: 3px; stroke-linejoin: round; } svg g.node text.stats { fill: var(--muted); font-size: 10px; }
svg g.node text.more { font-size: 10px; fill: #345; text-anchor: end; }
#node-detail { border: 1px solid #e6e6e6; padding: 8px; min-height: 120px; position: sticky; top: 8px; }
#node-detail h4 { margin: 0 0 6px; } #node-detail h5 { margin: 10px 0 2px; }
#node-detail pre { background: #f6f6f6; padding: 6px; white-space: pre-wrap; word-break: break-word; margin: 0; }
.comment { margin: 0; white-space: pre-wrap; }
.chosen-tag { background: var(--chosen); color: #fff; border-radius: 3px; padding: 0 5px; font-size: 11px; }
table.kv th { position: static; }
table.results td.question { max-width: 520px; font-style: normal; }
table.results td.right { background: #eef8f0; } table.results td.wrong { background: #fbeeee; }
`;
