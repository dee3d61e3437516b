// The MCTS tree as SVG, laid out by d3-hierarchy: depth left to right, one row per leaf. Colour is Q
// (red −1, yellow 0, green +1; grey: not yet visited), size grows with visits N; squares are terminal
// steps (with the answer they printed), × marks a dead end, a dashed ring a step cut at the depth limit.
// Redrawn whole on every search event: trees here have at most a few hundred nodes.
import { hierarchy, tree as treeLayout, type HierarchyPointNode } from 'd3-hierarchy';
import type { MCTSNode, SearchTree } from '../search/mcts.ts';

const SVG = 'http://www.w3.org/2000/svg';
const ROW = 26;
const COL = 170;
const PAD = 24;

export interface TreeViewOptions {
  /** Node ids drawn as the chosen path (root excluded). */
  path?: ReadonlySet<number>;
  selected?: number | null;
  onSelect?: (node: MCTSNode) => void;
}

/** Q in [−1, 1] as a colour; grey before the first visit. */
export function qColour(node: Pick<MCTSNode, 'q' | 'n'>): string {
  if (node.n === 0) return '#b8b8b8';
  const q = Math.max(-1, Math.min(1, node.q));
  return `hsl(${Math.round(60 + 60 * q)}, 72%, 44%)`;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

function short(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** What a node's tooltip says. */
export function describeNode(x: MCTSNode): string {
  if (x.parent < 0) return `question\nN ${x.n}   Q ${x.q.toFixed(3)}`;
  const lines = [`step ${x.depth}   Q ${x.q.toFixed(3)}   N ${x.n}${x.prior !== null ? `   PPM ${x.prior.toFixed(3)}` : ''}`];
  if (x.step) lines.push(...x.step.comment.map((c) => `// ${c}`), x.step.code);
  if (x.output) lines.push(`→ ${x.output}`);
  if (x.terminal) lines.push(`answer: ${x.answer ?? '(nothing printed)'}`);
  if (x.deadEnd) lines.push('dead end: no candidate step ran');
  if (x.depthLimited) lines.push('cut: depth limit');
  return lines.join('\n');
}

export function renderTree(svg: SVGSVGElement, tree: SearchTree, o: TreeViewOptions = {}): void {
  const root = hierarchy(tree.nodes[0]!, (x) => x.children.map((id) => tree.nodes[id]!));
  const laid = treeLayout<MCTSNode>().nodeSize([ROW, COL]).separation(() => 1)(root);
  let minY = Infinity, maxY = -Infinity, maxX = 0;
  laid.each((d) => {
    minY = Math.min(minY, d.x);
    maxY = Math.max(maxY, d.x);
    maxX = Math.max(maxX, d.y);
  });
  const width = maxX + COL + 2 * PAD;
  const height = maxY - minY + 2 * PAD;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `${-PAD} ${minY - PAD} ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(Math.max(height, 80)));
  const links = el('g', { class: 'links' }, svg);
  const nodes = el('g', { class: 'nodes' }, svg);
  const onPath = (id: number) => o.path?.has(id) ?? false;
  laid.links().forEach(({ source: s, target: t }) => {
    const mx = (s.y + t.y) / 2;
    el('path', { class: `link${onPath(t.data.id) ? ' best' : ''}`, d: `M${s.y},${s.x}C${mx},${s.x} ${mx},${t.x} ${t.y},${t.x}` }, links);
  });
  laid.each((d: HierarchyPointNode<MCTSNode>) => {
    const x = d.data;
    const kind = x.parent < 0 ? 'root' : x.terminal ? 'terminal' : x.deadEnd ? 'dead-end' : x.depthLimited ? 'depth-limited' : 'step';
    const g = el('g', { class: `node ${kind}${onPath(x.id) ? ' best' : ''}${o.selected === x.id ? ' selected' : ''}`, transform: `translate(${d.y},${d.x})`, 'data-id': x.id }, nodes);
    const r = 5 + 1.6 * Math.sqrt(x.n);
    const fill = x.parent < 0 ? '#3b5b92' : qColour(x);
    if (x.terminal) el('rect', { x: -r, y: -r, width: 2 * r, height: 2 * r, rx: 2, fill }, g);
    else el('circle', { r, fill, ...(x.depthLimited ? { 'stroke-dasharray': '3 2' } : {}) }, g);
    if (x.deadEnd) el('path', { class: 'cross', d: `M${-r},${-r}L${r},${r}M${-r},${r}L${r},${-r}` }, g);
    // a step's first comment line, or its first line of code when it has no comment
    const label = x.parent < 0 ? 'question' : x.terminal ? `= ${x.answer ?? '?'}` : short(x.step?.comment[0] || x.step?.code.split('\n')[0] || '', 24);
    // above the node's centre line, where the links leave and arrive
    const t = el('text', { x: r + 3, y: -4 }, g);
    t.textContent = label;
    el('title', {}, g).textContent = describeNode(x);
    if (o.onSelect) g.addEventListener('click', () => o.onSelect!(x));
  });
}
