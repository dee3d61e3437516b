// The run report (src/train/report): saved trees round-trip through Arrow; `rstar report` writes one
// self-contained page; in a real browser (Debian chromium via puppeteer-core) the page loads from disk
// with no console error and no network request, its plots have marks, a tree renders, the search box
// finds a problem, folding and unfolding works and the dev results filter. Screenshots go to
// test-artifacts/report-*.png.
//
// The run folder is built by hand (metrics, training curves, eval shard lines, trees of real
// mcts.ts SearchTrees compacted as the search shards compact them) so the test takes seconds, not
// the minutes of a self-evolve run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { readTreeNodes, writeTreeNodes, type TreeNodeRow } from '../src/data/arrow.ts';
import { addNode, backup, bestTerminal, createTree, pathTo, type SearchTree } from '../src/search/mcts.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { writeJsonAtomic } from '../src/util/fsx.ts';
import type { RoundMetrics } from '../src/train/report.ts';
import { compactTree, writeTrees, type SavedTree } from '../src/train/report/trees.ts';
import { loadRun } from '../src/train/report/data.ts';
import { writeReport } from '../src/train/report/index.ts';
import { finish } from './child.ts';
import { setupBackend } from '../src/model/backends/backend.ts';
import { loadDataset, splitDev } from '../src/data/datasets.ts';
import { closeShardModels, loadShardModels, runShardProblems, toJobProblems, type EvalLine, type SearchLine } from '../src/train/shards.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

let tmp: string;
let run: string;

/**
 * A searched tree grown by hand with mcts.ts's own addNode / backup: every non-terminal step gets
 * 2–3 children (5 in trees of over 200 nodes) down to depth 4 (5), a third of the children from
 * depth 2 on print an answer (right when it is `gold`), priors in PPM style. `size` bounds the node count.
 */
function grownTree(id: string, question: string, gold: number, seed: number, size: number): SearchTree {
  const rand = mulberry32(seed);
  const t = createTree({ id, question, answer: String(gold) }, 'ppm', 'names');
  const frontier = [0];
  const wide = size > 200;
  while (frontier.length && t.nodes.length < size) {
    const at = frontier.shift()!;
    const parent = t.nodes[at]!;
    parent.expanded = true;
    const kids = wide ? 5 : 2 + Math.floor(rand() * 2);
    if (parent.depth >= 2 && rand() < 0.12) {
      parent.deadEnd = true;
      backup(t, parent, -1);
      continue;
    }
    for (let c = 0; c < kids && t.nodes.length < size; c++) {
      const terminal = parent.depth >= 2 && (parent.depth === (wide ? 4 : 3) || rand() < 0.35);
      if (terminal) {
        const ans = rand() < 0.5 ? gold : gold + 1 + Math.floor(rand() * 5);
        const n = addNode(t, at, { comment: [`the answer is ${ans}`], code: `print(${ans})` }, `${ans}`);
        n.answer = String(ans);
        n.correct = ans === gold;
        for (let v = 0; v < 1 + Math.floor(rand() * 3); v++) backup(t, n, n.correct ? 1 : -1);
      } else {
        const a = Math.floor(rand() * 20);
        const b = Math.floor(rand() * 20);
        // a step that prints is terminal (steps.ts isTerminal): intermediate steps only compute
        const n = addNode(t, at, { comment: [`add ${a} and ${b} apples`, `that makes ${a + b}`], code: `const x${t.nodes.length} = ${a} + ${b};\nconst y${t.nodes.length} = x${t.nodes.length} * 1;` }, '');
        n.prior = Math.round((rand() * 2 - 1) * 1000) / 1000;
        frontier.push(n.id);
      }
    }
  }
  return t;
}

const QUESTIONS = ['Tom has 3 apples and buys 4 more. How many apples does he have?', 'A bus carries 12 people; 5 get off. How many are left?', 'Sara reads 6 pages a day for 7 days. How many pages?'];
const question = (i: number) => `${QUESTIONS[i % QUESTIONS.length]} (variant ${i})`;

function metrics(round: number, o: Partial<RoundMetrics> & Record<string, unknown> = {}): RoundMetrics {
  return {
    round, problemsSearched: 30, solved: 20 + round * 3, trainCoverage: (20 + round * 3) / 30, sftTrajectories: 40 + round, pairs: 50 - round,
    devGreedy: 0.4 + 0.05 * round, devGreedyDistractor: 0.3 + 0.04 * round, devMcts: 0.45 + 0.06 * round, devMctsQVote: 0.46 + 0.05 * round, devN: 12,
    ppmAccuracy: 0.7 + 0.02 * round, ppmDevPairAccuracy: 0.65 + 0.03 * round, devPairs: 20, mctsVsGreedy: { onlyMcts: 3, onlyGreedy: 1, p: 0.62 },
    wallSeconds: 600 + 60 * round, ...o,
  };
}

const curve = (n: number, start: number, evalEvery: number, evalKey: 'metric' | 'devLoss') =>
  Array.from({ length: n }, (_, i) => [
    JSON.stringify({ step: i + 1, kind: 'train', loss: start * Math.exp(-i / n) + 0.05 * Math.sin(i), lr: 1e-3, tokPerSec: 1000 }),
    ...((i + 1) % evalEvery === 0 ? [JSON.stringify({ step: i + 1, kind: 'eval', [evalKey]: start * 0.9 * Math.exp(-i / n), ...(evalKey === 'devLoss' ? { metric: 0.7 } : {}) })] : []),
  ]).flat().join('\n') + '\n';

const DEV = 12;
const TRAIN = 30;
/** Dev problem i: right under greedy when i % 3 === 0, under MCTS when i % 2 === 0. */
const devRight = (i: number) => ({ greedy: i % 3 === 0, mcts: i % 2 === 0 });
let devTrees: SavedTree[];
let trainTrees: SearchTree[];

async function buildRun(dir: string): Promise<void> {
  writeJsonAtomic(path.join(dir, 'run.json'), { preset: 'tiny', seed: 7, rounds: 2, override: null });
  writeJsonAtomic(path.join(dir, 'round-0', 'wall.json'), { s: 420 });
  fs.writeFileSync(path.join(dir, 'round-0', 'sft-train', 'metrics.jsonl'), curve(60, 4, 12, 'metric'), { flag: 'w' });
  // round 1 is from before stage times were recorded; round 2 has them and synthesis counts
  writeJsonAtomic(path.join(dir, 'round-1', 'metrics.json'), metrics(1, { synthesis: { added: 40, kept: 28 } }));
  writeJsonAtomic(path.join(dir, 'round-2', 'metrics.json'), metrics(2, { stageSeconds: { search: 300, sft: 200, ppm: 100, eval: 120 }, synthesis: { added: 38, kept: 33 } }));
  for (const k of [1, 2]) {
    fs.writeFileSync(path.join(dir, `round-${k}`, 'sft-train', 'metrics.jsonl'), curve(30, 2.4 - 0.6 * k, 6, 'metric'));
    // a torn last line, as while a run is still appending
    fs.writeFileSync(path.join(dir, `round-${k}`, 'ppm-train', 'metrics.jsonl'), curve(20, 0.75 - 0.1 * k, 5, 'devLoss') + '{"step": 21, "kind": "tr');
    for (const mode of ['greedy', 'mcts'] as const) {
      for (const shard of [0, 1]) {
        const lines = Array.from({ length: DEV }, (_, i) => i).filter((i) => i % 2 === shard).map((i) => JSON.stringify({
          problemId: `dev-${i}`, predicted: String(devRight(i)[mode] ? i + 2 : i + 3), correct: devRight(i)[mode], question: question(i), gold: String(i + 2),
          ...(mode === 'mcts' ? { correctQVote: devRight(i).mcts || i === 3 } : {}),
        }));
        fs.writeFileSync(path.join(dir, `round-${k}`, `eval-${mode}`, `shard-${shard}.jsonl`), lines.join('\n') + '\n');
      }
    }
  }
  // training trees of round 2's search (known answers), dev trees of its evaluation (graded here)
  trainTrees = Array.from({ length: TRAIN }, (_, i) => grownTree(`train-${i}`, question(i), i + 2, 100 + i, i === 5 ? 420 : 40 + 7 * (i % 9)));
  await writeTrees(path.join(dir, 'round-2', 'trees.arrow'), trainTrees.map((t) => ({ problemId: t.problemId, trees: [compactTree(t)] })), { round: 2, kind: 'train' });
  devTrees = Array.from({ length: DEV }, (_, i) => {
    const t = grownTree(`dev-${i}`, question(i), i + 2, 500 + i, 60 + 10 * (i % 5));
    const gold = t.gold!;
    t.gold = null; // test time: the search knew no answer
    for (const n of t.nodes) n.correct = null;
    return compactTree(t, gold);
  });
  await writeTrees(path.join(dir, 'round-2', 'eval-mcts', 'trees.arrow'), devTrees.map((t, i) => ({ problemId: `dev-${i}`, trees: [t] })), { round: 2, kind: 'dev' });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-report-'));
  run = path.join(tmp, 'run');
  for (const d of ['round-0/sft-train', 'round-1/sft-train', 'round-1/ppm-train', 'round-1/eval-greedy', 'round-1/eval-mcts', 'round-2/sft-train', 'round-2/ppm-train', 'round-2/eval-greedy', 'round-2/eval-mcts']) fs.mkdirSync(path.join(run, d), { recursive: true });
  await buildRun(run);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('saved trees', () => {
  it('compactTree keeps every node, the chosen path to the best-Q terminal, and grades test-time terminals', () => {
    const t = grownTree('p', 'How many?', 5, 3, 80);
    const best = bestTerminal(t)!;
    const c = compactTree(t);
    expect(c.nodes).toHaveLength(t.nodes.length);
    expect(c.nodes[0]!.text).toBe('How many?');
    expect(c.nodes.filter((n) => n.chosen).map((n) => n.id)).toEqual([0, ...pathTo(t, best.id)]);
    expect(c.nodes.filter((n) => n.terminal && n.correct).length).toBe(t.nodes.filter((n) => n.correct).length);
    // the same tree searched with no known answer: correct comes from grading against the given gold
    for (const n of t.nodes) n.correct = null;
    const graded = compactTree({ ...t, gold: null }, '5');
    expect(graded.nodes.map((n) => n.correct)).toEqual(c.nodes.map((n) => n.correct));
    expect(graded.nodes.some((n) => n.correct)).toBe(true);
    // an evaluation that answered with another terminal (the greedy anchor's): the path ends there
    const other = t.nodes.find((n) => n.terminal && n.answer !== null && n.id !== best.id)!;
    const anchored = compactTree(t, '5', other);
    expect(anchored.nodes.filter((n) => n.chosen).map((n) => n.id)).toEqual([0, ...pathTo(t, other.id)]);
  });

  it('round-trips through the treeNodes Arrow table (prior NaN ↔ null) and filters by column', async () => {
    const rows = readTreeNodes(path.join(run, 'round-2', 'eval-mcts', 'trees.arrow'));
    expect(rows.length).toBe(devTrees.reduce((a, t) => a + t.nodes.length, 0));
    const dev3 = rows.filter((r) => r.problemId === 'dev-3');
    expect(dev3.map((r) => r.id)).toEqual(devTrees[3]!.nodes.map((n) => n.id));
    dev3.forEach((r, i) => {
      const n = devTrees[3]!.nodes[i]!;
      expect(r).toMatchObject({ round: 2, kind: 'dev', tree: 0, parent: n.parent, text: n.text, output: n.output, n: n.n, terminal: n.terminal, answer: n.answer, correct: n.correct, chosen: n.chosen, gold: '5' });
      expect(r.q).toBeCloseTo(n.q, 5);
      if (n.prior === null) expect(r.prior).toBeNaN();
      else expect(r.prior).toBeCloseTo(n.prior, 5);
    });
    const roots = readTreeNodes(path.join(run, 'round-2', 'trees.arrow'), { column: 'id', keep: (v) => v === 0 });
    expect(roots.map((r) => r.problemId)).toEqual(trainTrees.map((t) => t.problemId));
  });

  it('rejects a row of the wrong kind in one line naming the file and column, and writes nothing', async () => {
    const f = path.join(tmp, 'bad-trees.arrow');
    const row = { ...readTreeNodes(path.join(run, 'round-2', 'trees.arrow'))[0]!, kind: 'test' } as unknown as TreeNodeRow;
    await expect(writeTreeNodes(f, [row])).rejects.toThrow(`${f}: row 1: expected "kind" to be one of train, dev, got "test"`);
    expect(fs.existsSync(f)).toBe(false);
  });
});

describe('search shards keep their trees (the shipped policy and PPM)', () => {
  it('eval mcts lines carry each tree graded against the gold answer; search lines carry it when the job asks', async () => {
    await setupBackend('wasm');
    const m = await loadShardModels({ policy: path.join(REPO, 'checkpoints/policy'), ppm: path.join(REPO, 'checkpoints/ppm') });
    try {
      const problems = toJobProblems(splitDev(loadDataset('mawps')).dev.slice(0, 2));
      const search = { rollouts: 4, k: 4, maxDepth: 4 };
      const ev: EvalLine[] = [];
      await runShardProblems(m, { kind: 'eval', evalMode: 'mcts', policy: '', seed: 1, round: 1, search }, problems, (l) => ev.push(l as EvalLine));
      expect(ev.map((l) => l.problemId)).toEqual(problems.map((p) => p.id));
      ev.forEach((l, i) => {
        expect(l.trees).toHaveLength(1);
        const t = l.trees![0]!;
        expect(t.gold).toBe(problems[i]!.answer);
        expect(t.nodes[0]!.text).toBe(problems[i]!.question);
        // the chosen terminal is the search's answer, graded as the evaluation graded it
        const pick = t.nodes.find((n) => n.terminal && n.chosen);
        expect(pick?.answer ?? '').toBe(l.predicted);
        expect(pick?.correct ?? false).toBe(l.correct);
      });
      const plain: SearchLine[] = [];
      await runShardProblems(m, { kind: 'search', policy: '', seed: 1, round: 1, search: { ...search, mode: 'ppm' } }, problems.slice(0, 1), (l) => plain.push(l as SearchLine));
      expect(plain[0]!.trees).toBeUndefined();
      const kept: SearchLine[] = [];
      await runShardProblems(m, { kind: 'search', policy: '', seed: 1, round: 1, search: { ...search, mode: 'ppm' }, trees: true }, problems.slice(0, 1), (l) => kept.push(l as SearchLine));
      const t = kept[0]!.trees![0]!;
      expect(t.nodes.length).toBeGreaterThan(1);
      expect(kept[0]!.solved).toBe(t.nodes.some((n) => n.terminal && n.correct));
      // PPM mode: non-terminal children carry the PPM's initial score
      expect(t.nodes.some((n) => !n.terminal && n.prior !== null)).toBe(true);
    } finally {
      await closeShardModels(m);
    }
  });
});

describe('report data', () => {
  it('reads rounds, stage times, curves (a torn last line skipped), per-problem results and a tree sample', () => {
    const d = loadRun(run, { devTrees: 400, trainTrees: 10, maxTreeBytes: 8e6 });
    expect(d.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(d.rounds[1]!.stageSeconds).toEqual({ search: 300, sft: 200, ppm: 100, eval: 120 });
    expect(d.round0Seconds).toBe(420);
    expect(d.sft.filter((p) => p.round === 0 && p.kind === 'train')).toHaveLength(60);
    expect(d.ppm.filter((p) => p.round === 2 && p.kind === 'train')).toHaveLength(20);
    expect(d.ppm.filter((p) => p.round === 2 && p.kind === 'eval')).toHaveLength(4);
    expect(d.results.map((r) => r.problems.length)).toEqual([DEV, DEV]);
    expect(d.results[1]!.problems.find((p) => p.id === 'dev-3')).toMatchObject({ gold: '5', greedy: { correct: true }, mcts: { correct: false, qVote: true } });
    expect(d.trees.filter((t) => t.kind === 'dev')).toHaveLength(DEV);
    expect(d.trees.filter((t) => t.kind === 'train')).toHaveLength(10);
    expect(d.treeNote).toMatch(/dev trees of round 2.*12 problems.*training trees of round 2: a seeded sample of 10 of 30/);
    // the sample is seeded: the same problems every time
    expect(loadRun(run, { devTrees: 400, trainTrees: 10, maxTreeBytes: 8e6 }).trees.map((t) => t.key)).toEqual(d.trees.map((t) => t.key));
    // a byte budget leaves trees out and says so
    const small = loadRun(run, { devTrees: 400, trainTrees: 10, maxTreeBytes: 40_000 });
    expect(small.trees.length).toBeLessThan(d.trees.length);
    expect(small.treeNote).toMatch(/more left out \(page size limit/);
  });

  it('a folder that is no run fails with one line naming it', () => {
    expect(() => loadRun(path.join(tmp, 'nope'))).toThrow(`${path.join(tmp, 'nope')}: expected a self-evolve run folder, found no such folder`);
    fs.mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    expect(() => loadRun(path.join(tmp, 'empty'))).toThrow(/empty: expected a self-evolve run folder \(run.json, round-K\/\), found neither/);
  });
});

describe('rstar report', () => {
  it('writes one self-contained page (no external reference) and prints what it holds', async () => {
    const c = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'report', run], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await finish(c);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(run, 'report', 'index.html');
    expect(r.stdout).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\([\\d.]+ MB, 7 plots, ${DEV + 30} trees: dev trees of round 2`));
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/(?:src|href)=["']https?:/i);
    expect(fs.readdirSync(path.join(run, 'report'))).toEqual(['index.html']);
  });

  it('bad input: one line, exit 1', async () => {
    const rstar = (args: string[]) => finish(spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'report', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }));
    // one after another: one core
    const noRun = await rstar([path.join(tmp, 'nope')]);
    const badFlag = await rstar([run, '--dev-trees', '-3']);
    expect(noRun.code).toBe(1);
    expect(noRun.stderr.trim().split('\n')).toEqual([`rstar: ${path.join(tmp, 'nope')}: expected a self-evolve run folder, found no such folder`]);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr.trim().split('\n')).toEqual(['rstar: report: --dev-trees must be a non-negative integer, got -3']);
  });
});

describe.skipIf(!fs.existsSync(CHROMIUM))('the page in chromium', () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const offline: string[] = [];
  let profile: string;

  beforeAll(async () => {
    await writeReport({ run, trees: { trainTrees: 30 } });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 1000 });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
    page.on('request', (r) => { if (!/^(file|data|about):/.test(r.url())) offline.push(r.url()); });
    await page.goto(pathToFileURL(path.join(run, 'report', 'index.html')).href, { waitUntil: 'load' });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  const count = (sel: string) => page.$$eval(sel, (els) => els.length);
  const nodes = () => count('#tree-svg g.node');

  it('loads from disk with no console error and no network request', async () => {
    expect(await page.title()).toBe('rstar-ts run report: run');
    expect(problems).toEqual([]);
    expect(offline).toEqual([]);
  });

  it('every plot renders marks', async () => {
    const marks = await page.$$eval('figure.plot', (figs) => figs.map((f) => ({
      id: (f as HTMLElement).dataset.plot,
      marks: f.querySelectorAll('svg g.role-mark path').length,
    })));
    expect(marks.map((m) => m.id)).toEqual(['coverage', 'dev-accuracy', 'ppm-accuracy', 'synthesis', 'wall', 'sft-loss', 'ppm-loss']);
    for (const m of marks) expect(m.marks, m.id).toBeGreaterThan(0);
    // wall time: round 0, round 1's total (no stage split), round 2's four stages
    expect(await count('figure[data-plot="wall"] svg g.mark-rect.role-mark path')).toBe(6);
    // dev accuracy: 4 sources × 2 rounds of points
    expect(await count('figure[data-plot="dev-accuracy"] svg g.mark-symbol.role-mark path')).toBe(8);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-top.png'), fullPage: false });
    const plots = await page.$('#plots');
    await plots!.screenshot({ path: path.join(ARTIFACTS, 'report-plots.png') });
  });

  it('the first dev tree renders with its chosen path and coloured terminals', async () => {
    const t = devTrees[0]!;
    expect(await nodes()).toBe(t.nodes.length);
    expect(await page.$eval('#tree-head h3', (e) => e.textContent)).toMatch(/^dev-0 /);
    expect(await count('#tree-svg g.node.chosen')).toBe(t.nodes.filter((n) => n.chosen).length);
    expect(await count('#tree-svg path.edge.chosen')).toBe(t.nodes.filter((n) => n.chosen).length - 1);
    expect(await count('#tree-svg g.node.terminal.right')).toBe(t.nodes.filter((n) => n.terminal && n.correct).length);
    expect(await count('#tree-svg g.node.terminal.wrong')).toBe(t.nodes.filter((n) => n.terminal && !n.correct).length);
    // the detail panel opens on the chosen terminal
    const chosen = t.nodes.find((n) => n.terminal && n.chosen)!;
    expect(await page.$eval('#node-detail', (e) => e.textContent)).toContain(`answer ${chosen.answer}`);
  });

  it('the search box finds a training problem and opens its tree', async () => {
    await page.type('#tree-search', 'train-7');
    expect(await page.$$eval('#tree-list li', (ls) => ls.map((l) => (l as HTMLElement).dataset.key))).toEqual(['train:2:train-7:0']);
    await page.click('#tree-list li');
    expect(await page.$eval('#tree-head h3', (e) => e.textContent)).toMatch(/^train-7 training search, round 2/);
    expect(await nodes()).toBe(trainTrees[7]!.nodes.length);
    // words of the question find it too
    await page.$eval('#tree-search', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('#tree-search', 'variant 17)');
    expect(await count('#tree-list li')).toBe(1);
  });

  it('folding and unfolding a subtree, collapse all, expand all', async () => {
    const t = trainTrees[7]!;
    const all = t.nodes.length;
    const below = (id: number): number => t.nodes[id]!.children.reduce((a, c) => a + 1 + below(c), 0);
    const inner = t.nodes[0]!.children.find((c) => t.nodes[c]!.children.length)!;
    await page.click(`#tree-svg g.node[data-id="${inner}"] circle`);
    expect(await nodes()).toBe(all - below(inner));
    expect(await page.$eval(`#tree-svg g.node[data-id="${inner}"] text.more`, (e) => e.textContent)).toBe(`+${below(inner)}`);
    await page.click(`#tree-svg g.node[data-id="${inner}"] circle`);
    expect(await nodes()).toBe(all);
    await page.click('#collapse-all');
    expect(await nodes()).toBe(1 + t.nodes[0]!.children.length);
    await page.click('#chosen-only');
    const chosenKids = t.nodes.filter((n) => n.parent >= 0 && t.nodes[n.parent]!.children.length && (n.parent === 0 || bestPath(t).has(n.parent)));
    expect(await nodes()).toBe(1 + chosenKids.length);
    await page.click('#expand-all');
    expect(await nodes()).toBe(all);
    // clicking a label shows the step: comment, code, output, Q, N, PPM prior
    const step = t.nodes.find((n) => n.depth === 1)!;
    await page.click(`#tree-svg g.node[data-id="${step.id}"] text.label`);
    const detail = await page.$eval('#node-detail', (e) => e.textContent!);
    expect(detail).toContain(step.step!.comment.join('\n'));
    expect(detail).toContain(step.step!.code);
    expect(detail).toContain(`visits N${step.n}`);
    expect(detail).toContain(`PPM score (prior)${step.prior!.toFixed(3)}`);
    expect(detail).toContain('(nothing printed)');
    const term = t.nodes.find((n) => n.terminal)!;
    await page.click(`#tree-svg g.node[data-id="${term.id}"] text.label`);
    expect(await page.$eval('#node-detail', (e) => e.textContent!)).toMatch(new RegExp(`terminal: answer ${term.answer} — ${term.correct ? 'right' : 'wrong'}.*sandbox output${term.output}$`));
    await page.click(`#tree-svg g.node[data-id="${step.id}"] text.label`);
    const view = await page.$('.explorer');
    await view!.screenshot({ path: path.join(ARTIFACTS, 'report-tree.png') });
  });

  it('a tree of 420 nodes opens folded off the chosen path and unfolds fast', async () => {
    await page.$eval('#tree-search', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('#tree-search', 'train-5');
    await page.click('#tree-list li');
    expect(trainTrees[5]!.nodes.length).toBe(420);
    expect(await nodes()).toBeLessThan(trainTrees[5]!.nodes.length);
    await (await page.$('.explorer'))!.screenshot({ path: path.join(ARTIFACTS, 'report-tree-large.png') });
    const ms = await page.evaluate(() => {
      const t0 = performance.now();
      (document.getElementById('expand-all') as HTMLButtonElement).click();
      return performance.now() - t0;
    });
    expect(await nodes()).toBe(trainTrees[5]!.nodes.length);
    expect(ms).toBeLessThan(1000);
  });

  it('dev results filter by category and open a problem\'s tree', async () => {
    const rows = () => page.$$eval('#results-table tbody tr', (rs) => rs.map((r) => (r as HTMLElement).dataset.id));
    expect(await rows()).toHaveLength(DEV);
    const ids = (f: (r: { greedy: boolean; mcts: boolean }) => boolean) => Array.from({ length: DEV }, (_, i) => i).filter((i) => f(devRight(i))).map((i) => `dev-${i}`);
    await page.select('#results-filter', 'onlyMcts');
    expect(await rows()).toEqual(ids((r) => r.mcts && !r.greedy));
    await page.select('#results-filter', 'onlyGreedy');
    expect(await rows()).toEqual(ids((r) => !r.mcts && r.greedy));
    await page.select('#results-filter', 'both');
    expect(await rows()).toEqual(ids((r) => r.mcts && r.greedy));
    await page.select('#results-filter', 'neither');
    expect(await rows()).toEqual(ids((r) => !r.mcts && !r.greedy));
    expect(await page.$eval('#results-counts', (e) => e.textContent)).toBe(`${DEV} problems · right only under MCTS + PPM 4 · only greedy 2 · both 2 · neither 4`);
    await page.select('#results-filter', '');
    await page.click('#results-table tr[data-id="dev-4"] button');
    expect(await page.$eval('#tree-head h3', (e) => e.textContent)).toMatch(/^dev-4 dev/);
    const res = await page.$('#results');
    await res!.screenshot({ path: path.join(ARTIFACTS, 'report-results.png') });
    expect(problems).toEqual([]);
  });
});

/** Node ids on the path to the best-Q terminal (root included). */
function bestPath(t: SearchTree): Set<number> {
  const b = bestTerminal(t)!;
  return new Set([0, ...pathTo(t, b.id)]);
}
