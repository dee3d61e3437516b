// The report page's script (bundled by esbuild into index.html at report time; runs in the browser):
// the MCTS tree explorer and the per-problem dev results, both from the JSON inlined in the page.
import { hierarchy, tree as treeLayout, type HierarchyPointNode } from 'd3-hierarchy';
import { FLAG, type PackedTree, type PageData, type ProblemResult } from './types.ts';

const data = JSON.parse(document.getElementById('report-data')!.textContent!) as PageData;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));

// ---------------------------------------------------------------------------------------------------
// Tree explorer

const byKey = new Map(data.trees.map((t) => [t.key, t]));
const questionOf = (t: PackedTree) => t.nodes[0]?.[1] ?? '';

/** A step's text without its end marker, split into comment lines and code. */
function splitStep(text: string): { comment: string; code: string } {
  const body = text.replace(/<end_of_(?:step|solution)>\s*$/, '').replace(/\s+$/, '');
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.trimStart().startsWith('//')) i++;
  return { comment: lines.slice(0, i).map((l) => l.replace(/^\s*\/\/\s?/, '')).join('\n'), code: lines.slice(i).join('\n') };
}

/** A node's one-line label: the first comment line, else the code. */
function snippet(text: string, max = 34): string {
  const { comment, code } = splitStep(text);
  const s = (comment.split('\n')[0] || code.split('\n')[0] || '').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

interface Shown {
  tree: PackedTree;
  children: number[][];
  collapsed: Set<number>;
  selected: number;
}
let shown: Shown | null = null;

function listTrees(): void {
  const q = $<HTMLInputElement>('tree-search').value.trim().toLowerCase();
  const kind = $<HTMLSelectElement>('tree-kind').value;
  const hits = data.trees.filter((t) => (!kind || t.kind === kind) && (!q || t.problemId.toLowerCase().includes(q) || questionOf(t).toLowerCase().includes(q)));
  const max = 200;
  $('tree-count').textContent = `${hits.length} of ${data.trees.length} trees${hits.length > max ? ` (first ${max} listed)` : ''}`;
  $('tree-list').innerHTML = hits.slice(0, max).map((t) => {
    const mark = t.solved === null ? '<span class="badge none" title="no terminal">·</span>' : t.solved ? '<span class="badge right" title="best-Q terminal right">✓</span>' : '<span class="badge wrong" title="best-Q terminal wrong">✗</span>';
    return `<li data-key="${esc(t.key)}"${shown?.tree.key === t.key ? ' class="active"' : ''}>${mark}<b>${esc(t.problemId)}</b> <small>${t.kind} r${t.round}${t.tree ? ` tree ${t.tree + 1}` : ''} · ${t.nodes.length} node${t.nodes.length === 1 ? '' : 's'}</small><div class="q">${esc(questionOf(t))}</div></li>`;
  }).join('');
}

function openTree(key: string, scroll = false): void {
  const t = byKey.get(key);
  if (!t) return;
  const children: number[][] = t.nodes.map(() => []);
  t.nodes.forEach((n, i) => { if (n[0] >= 0) children[n[0]]!.push(i); });
  // big trees open with only the chosen path's subtrees below depth 1 expanded
  const collapsed = new Set<number>();
  if (t.nodes.length > 300) {
    const depth = t.nodes.map(() => 0);
    t.nodes.forEach((n, i) => { if (n[0] >= 0) depth[i] = depth[n[0]]! + 1; });
    t.nodes.forEach((n, i) => { if (depth[i]! >= 1 && !(n[6] & FLAG.chosen) && children[i]!.length) collapsed.add(i); });
  }
  shown = { tree: t, children, collapsed, selected: 0 };
  document.querySelectorAll('#tree-list li').forEach((li) => li.classList.toggle('active', (li as HTMLElement).dataset.key === key));
  const chosen = t.nodes.findIndex((n) => n[6] & FLAG.terminal && n[6] & FLAG.chosen);
  $('tree-head').innerHTML = `<h3>${esc(t.problemId)} <small>${t.kind === 'dev' ? 'dev (MCTS + PPM evaluation)' : 'training search'}, round ${t.round}${t.tree ? `, tree ${t.tree + 1}` : ''}</small></h3>`
    + `<p class="question">${esc(questionOf(t))}</p><p>gold answer <code>${esc(t.gold)}</code> · ${t.nodes.length} node${t.nodes.length === 1 ? '' : 's'} · `
    + (chosen >= 0 ? `chosen (best-Q) terminal answers <code>${esc(t.nodes[chosen]![7])}</code> — <span class="${t.solved ? 'right' : 'wrong'}">${t.solved ? 'right' : 'wrong'}</span>` : 'no terminal reached') + '</p>';
  try {
    // a link to this tree; some browsers refuse history changes on file: pages, which costs only the link
    if (location.hash !== `#tree=${encodeURIComponent(key)}`) history.replaceState(null, '', `#tree=${encodeURIComponent(key)}`);
  } catch { /* see above */ }
  drawTree();
  showNode(chosen >= 0 ? chosen : 0);
  if (scroll) $('explorer').scrollIntoView();
}

const ROW = 24;
const COL = 190;

function drawTree(): void {
  if (!shown) return;
  const { tree: t, children, collapsed } = shown;
  const root = hierarchy(0, (i) => (collapsed.has(i) ? null : children[i]));
  const laid = treeLayout<number>().nodeSize([ROW, COL]).separation((a, b) => (a.parent === b.parent ? 1 : 1.25))(root);
  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = 0;
  laid.each((d) => { minX = Math.min(minX, d.x); maxX = Math.max(maxX, d.x); maxY = Math.max(maxY, d.y); });
  const padTop = ROW;
  const width = maxY + COL + 40;
  const height = maxX - minX + 2 * ROW;
  const X = (d: HierarchyPointNode<number>) => d.y + 20;
  const Y = (d: HierarchyPointNode<number>) => d.x - minX + padTop;
  const edges: string[] = [];
  const nodes: string[] = [];
  laid.each((d) => {
    const i = d.data;
    const n = t.nodes[i]!;
    const f = n[6];
    if (d.parent) {
      const px = X(d.parent) + 6;
      const py = Y(d.parent);
      const cx = X(d) - 6;
      const mid = (px + cx) / 2;
      edges.push(`<path class="edge${f & FLAG.chosen ? ' chosen' : ''}" d="M${px},${py}C${mid},${py} ${mid},${Y(d)} ${cx},${Y(d)}"/>`);
    }
    const cls = ['node'];
    if (f & FLAG.terminal) cls.push('terminal', f & FLAG.correct ? 'right' : 'wrong');
    if (f & FLAG.chosen) cls.push('chosen');
    if (f & FLAG.deadEnd) cls.push('dead');
    if (collapsed.has(i)) cls.push('collapsed');
    if (children[i]!.length) cls.push('inner');
    if (i === shown!.selected) cls.push('selected');
    const hidden = collapsed.has(i) ? countBelow(i) : 0;
    const label = i === 0 ? 'question' : snippet(n[1]);
    nodes.push(`<g class="${cls.join(' ')}" data-id="${i}" transform="translate(${X(d)},${Y(d)})"><title>${esc(i === 0 ? n[1] : splitStep(n[1]).code)}</title>`
      + `<circle r="6"/>${hidden ? `<text class="more" x="-10" dy="4">+${hidden}</text>` : ''}`
      + `<text class="label" x="10" dy="-2">${esc(label)}</text><text class="stats" x="10" dy="9">Q ${fmt(n[3])} · N ${n[4]}${n[5] === null ? '' : ` · PPM ${fmt(n[5])}`}${f & FLAG.terminal ? ` → ${esc(n[7] || '∅')}` : ''}</text></g>`);
  });
  $('tree-view').innerHTML = `<svg id="tree-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><g class="edges">${edges.join('')}</g><g class="nodes">${nodes.join('')}</g></svg>`;
}

function countBelow(i: number): number {
  const kids = shown!.children[i]!;
  return kids.reduce((a, c) => a + 1 + countBelow(c), 0);
}

function showNode(i: number): void {
  if (!shown) return;
  shown.selected = i;
  document.querySelectorAll('#tree-svg g.node.selected').forEach((g) => g.classList.remove('selected'));
  document.querySelector(`#tree-svg g.node[data-id="${i}"]`)?.classList.add('selected');
  const t = shown.tree;
  const n = t.nodes[i]!;
  const f = n[6];
  let depth = 0;
  for (let p = n[0]; p >= 0; p = t.nodes[p]![0]) depth++;
  const { comment, code } = splitStep(n[1]);
  const status = f & FLAG.terminal ? `terminal: answer <code>${esc(n[7] || '(none printed)')}</code> — <span class="${f & FLAG.correct ? 'right' : 'wrong'}">${f & FLAG.correct ? 'right' : 'wrong'}</span>` : f & FLAG.deadEnd ? 'dead end: every proposed step failed' : `${shown.children[i]!.length} children`;
  $('node-detail').innerHTML = i === 0
    ? `<h4>Root (the question)</h4><p>${esc(n[1])}</p>${f & FLAG.deadEnd ? '<p>dead end: every proposed first step failed</p>' : ''}<table class="kv"><tr><th>Q</th><td>${fmt(n[3], 3)}</td></tr><tr><th>visits N</th><td>${n[4]}</td></tr></table>`
    : `<h4>Step ${depth}${f & FLAG.chosen ? ' <span class="chosen-tag">chosen path</span>' : ''}</h4><p>${status}</p>`
      + `<table class="kv"><tr><th>Q</th><td>${fmt(n[3], 3)}</td></tr><tr><th>visits N</th><td>${n[4]}</td></tr><tr><th>PPM score (prior)</th><td>${fmt(n[5], 3)}</td></tr></table>`
      + (comment ? `<h5>step</h5><p class="comment">${esc(comment)}</p>` : '')
      + `<h5>code</h5><pre>${esc(code)}</pre><h5>sandbox output</h5><pre>${esc(n[2] || '(nothing printed)')}</pre>`;
}

function setupExplorer(): void {
  $('tree-note').textContent = data.treeNote;
  $('tree-search').addEventListener('input', listTrees);
  $('tree-kind').addEventListener('change', listTrees);
  $('tree-list').addEventListener('click', (e) => {
    const li = (e.target as HTMLElement).closest('li');
    if (li?.dataset.key) openTree(li.dataset.key);
  });
  $('tree-view').addEventListener('click', (e) => {
    const g = (e.target as Element).closest('g.node') as SVGGElement | null;
    if (!g || !shown) return;
    const i = Number(g.dataset.id);
    // the circle folds and unfolds a subtree; the label shows the node
    if ((e.target as Element).tagName === 'circle' && shown.children[i]!.length) {
      if (shown.collapsed.has(i)) shown.collapsed.delete(i);
      else shown.collapsed.add(i);
      shown.selected = i;
      drawTree();
    }
    showNode(i);
  });
  $('expand-all').addEventListener('click', () => { if (shown) { shown.collapsed.clear(); drawTree(); } });
  $('collapse-all').addEventListener('click', () => {
    if (!shown) return;
    shown.children.forEach((c, i) => { if (i > 0 && c.length) shown!.collapsed.add(i); });
    drawTree();
  });
  $('chosen-only').addEventListener('click', () => {
    if (!shown) return;
    const t = shown.tree;
    shown.collapsed.clear();
    // fold every subtree that leaves the chosen path
    shown.children.forEach((c, i) => { if (i > 0 && c.length && !(t.nodes[i]![6] & FLAG.chosen)) shown!.collapsed.add(i); });
    drawTree();
  });
  listTrees();
  const fromHash = /^#tree=(.+)$/.exec(location.hash);
  const first = fromHash && byKey.has(decodeURIComponent(fromHash[1]!)) ? decodeURIComponent(fromHash[1]!) : data.trees[0]?.key;
  if (first) openTree(first);
  else $('tree-view').innerHTML = '<p class="note">No saved trees in this run.</p>';
}

// ---------------------------------------------------------------------------------------------------
// Per-problem dev results

type Category = 'onlyMcts' | 'onlyGreedy' | 'both' | 'neither';
function category(p: ProblemResult): Category | null {
  if (!p.greedy || !p.mcts) return null;
  return p.mcts.correct ? (p.greedy.correct ? 'both' : 'onlyMcts') : p.greedy.correct ? 'onlyGreedy' : 'neither';
}

const devTreeOf = new Map<string, string>();
for (const t of data.trees) if (t.kind === 'dev' && !devTreeOf.has(`${t.round}:${t.problemId}`)) devTreeOf.set(`${t.round}:${t.problemId}`, t.key);

function showResults(): void {
  const round = Number($<HTMLSelectElement>('results-round').value);
  const filter = $<HTMLSelectElement>('results-filter').value as Category | '';
  const r = data.results.find((x) => x.round === round);
  if (!r) return;
  const counts: Record<Category, number> = { onlyMcts: 0, onlyGreedy: 0, both: 0, neither: 0 };
  for (const p of r.problems) { const c = category(p); if (c) counts[c]++; }
  $('results-counts').textContent = `${r.problems.length} problems · right only under MCTS + PPM ${counts.onlyMcts} · only greedy ${counts.onlyGreedy} · both ${counts.both} · neither ${counts.neither}`;
  const rows = r.problems.filter((p) => !filter || category(p) === filter);
  const cell = (x?: { predicted: string; correct: boolean }) => (x ? `<td class="${x.correct ? 'right' : 'wrong'}">${x.correct ? '✓' : '✗'} <code>${esc(x.predicted || '∅')}</code></td>` : '<td>–</td>');
  $('results-table').innerHTML = '<thead><tr><th>problem</th><th>question</th><th>gold</th><th>greedy</th><th>MCTS + PPM</th><th>Q-vote</th><th>tree</th></tr></thead><tbody>'
    + rows.map((p) => {
      const key = devTreeOf.get(`${round}:${p.id}`);
      const qv = p.mcts?.qVote;
      return `<tr data-id="${esc(p.id)}" data-category="${category(p) ?? ''}"><td>${esc(p.id)}</td><td class="question">${esc(p.question)}</td><td><code>${esc(p.gold)}</code></td>${cell(p.greedy)}${cell(p.mcts)}`
        + `<td class="${qv === undefined ? '' : qv ? 'right' : 'wrong'}">${qv === undefined ? '–' : qv ? '✓' : '✗'}</td><td>${key ? `<button data-key="${esc(key)}">open</button>` : ''}</td></tr>`;
    }).join('') + '</tbody>';
  $('results-shown').textContent = `${rows.length} shown`;
}

function setupResults(): void {
  if (!data.results.length) {
    $('results-counts').textContent = 'No per-problem dev results in this run yet.';
    return;
  }
  $('results-round').innerHTML = data.results.map((r) => `<option value="${r.round}">round ${r.round}</option>`).join('');
  $<HTMLSelectElement>('results-round').value = String(data.results[data.results.length - 1]!.round);
  $('results-round').addEventListener('change', showResults);
  $('results-filter').addEventListener('change', showResults);
  $('results-table').addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest('button');
    if (b?.dataset.key) openTree(b.dataset.key, true);
  });
  showResults();
}

setupExplorer();
setupResults();
