// The solve page: type a question, watch the MCTS tree grow. Everything runs here in the browser, with
// the CLI's own code: the policies and the PPM (GPT on TensorFlow.js: WebGPU when the browser has an
// adapter, else wasm), SentencePiece, searchMany with PolicyProposer/EnsembleProposer and PPMScorer,
// and the QuickJS sandbox's Evaluator in a Web Worker. The server (server.ts) only serves files.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { pathTo, searchMany, type SearchResult, type SearchTree, type MCTSNode } from '../search/mcts.ts';
import { policyProposer, PPMScorer } from '../search/policy.ts';
import { anchorFor, anchorNote, chosenTerminal, scoreLabel, searchOrWiden, treeSolution, widerK, type Solution } from '../search/evaluate.ts';
import { gradeAnswer } from '../data/grade.ts';
import { numberPrelude } from '../data/steps.ts';
import { checkPromptNumbers, type LoadedPPM, type PolicyHandle } from '../model/load.ts';
import { SEARCH, SEED } from '../config.ts';
import { fetchPolicy, fetchPPM, type CheckpointIndex } from './checkpoints.ts';
import { WebSandbox } from './web-sandbox.ts';
import { describeNode, renderTree } from './tree-view.ts';

interface Models {
  backend: string;
  policies: PolicyHandle[];
  ppm: LoadedPPM;
  sandbox: WebSandbox;
  /** Model files fetched, in bytes, and the time to load everything. */
  bytes: number;
  loadMs: number;
}

export interface SolveReport {
  answer: string | null;
  ms: number;
  rollouts: number;
  nodes: number;
  result: SearchResult;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
let models: Models | null = null;
let current: { tree: SearchTree; path: Set<number>; selected: number | null } | null = null;

function setState(state: 'loading' | 'ready' | 'solving' | 'done' | 'error', line: string): void {
  document.body.dataset.state = state;
  $('status').textContent = line;
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`rstar: ${msg}`);
  setState('error', `error: ${msg}`);
}

async function setupBackend(want: string): Promise<string> {
  if (want === 'auto' || want === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (adapter) {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu').catch(() => false)) return 'webgpu';
    }
    if (want === 'webgpu') throw new Error('WebGPU: this browser has no usable adapter (try ?backend=wasm)');
  }
  if (want === 'cpu') {
    await tf.setBackend('cpu');
    return 'cpu';
  }
  if (want !== 'auto' && want !== 'wasm') throw new Error(`?backend=${want}: expected auto, webgpu, wasm or cpu`);
  setWasmPaths('/vendor/tfjs/');
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialise');
  return 'wasm';
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

async function load(): Promise<Models> {
  const t0 = performance.now();
  setState('loading', 'starting TensorFlow.js…');
  const backend = await setupBackend(params.get('backend') ?? 'auto');
  const res = await fetch('/checkpoints/index.json');
  if (!res.ok) throw new Error(`/checkpoints/index.json: HTTP ${res.status}`);
  const index = (await res.json()) as CheckpointIndex;
  // ?policy=a,b&ppm=c pick checkpoint folders; default: the shipped ensemble and PPM, as `rstar solve`
  const names = (params.get('policy') ?? index.ensemble.join(',')).split(',').filter(Boolean);
  const ppmName = params.get('ppm') ?? index.ppms[0];
  if (!names.length) throw new Error('the server has no policy checkpoint');
  if (!ppmName) throw new Error('the server has no PPM checkpoint');
  let bytes = 0;
  const onBytes = (n: number) => {
    bytes += n;
    setState('loading', `loading models on ${backend}: ${mb(bytes)}…`);
  };
  const sandbox = new WebSandbox({ workerUrl: '/app/sandbox-worker.js', wasmUrl: '/vendor/quickjs/emscripten-module.wasm' });
  const [policies, ppm] = await Promise.all([
    Promise.all(names.map((n) => fetchPolicy(`/checkpoints/${n}`, onBytes))),
    fetchPPM(`/checkpoints/${ppmName}`, onBytes),
    sandbox.start(),
  ]);
  const first = policies[0]!;
  for (const p of policies.slice(1)) {
    if (p.tokenizer.sha256 !== first.tokenizer.sha256 || p.promptNumbers !== first.promptNumbers) {
      throw new Error(`${p.spec}: not the tokenizer and prompt style of ${first.spec} (prompt numbers "${p.promptNumbers}" vs "${first.promptNumbers}")`);
    }
  }
  checkPromptNumbers(first, ppm);
  const m: Models = { backend, policies, ppm, sandbox, bytes, loadMs: performance.now() - t0 };
  const params_ = (lm: PolicyHandle['lm']) => [...lm.namedWeights().values()].reduce((s, v) => s + v.size, 0);
  $('models').textContent = `policies ${names.join(' + ')} (${(params_(first.lm) / 1e6).toFixed(2)} M parameters each), PPM ${ppmName}; TensorFlow.js ${backend}; sandbox: QuickJS in a Web Worker`;
  return m;
}

/** Let the browser paint (the search runs on this thread). */
function yieldToPaint(): Promise<void> {
  return new Promise((r) => {
    const done = () => r();
    requestAnimationFrame(() => setTimeout(done, 0));
    setTimeout(done, 50); // a background tab gets no frames
  });
}

function draw(): void {
  if (!current) return;
  renderTree($<HTMLElement>('tree') as unknown as SVGSVGElement, current.tree, {
    path: current.path,
    selected: current.selected,
    onSelect: (x: MCTSNode) => {
      if (!current) return;
      current.selected = x.id;
      $('detail').textContent = describeNode(x);
      draw();
    },
  });
}

function showSolution(res: SearchResult, sol: Solution | null, note: string, scores: number[], ms: number): string | null {
  const steps = $('steps');
  steps.replaceChildren();
  const given = numberPrelude(res.tree.question);
  $('given').textContent = given ? `Given: ${given.replace(/^const /, '').replace(/;$/, '')}` : '';
  const answer = $('answer');
  answer.dataset.ms = String(Math.round(ms));
  if (!sol) {
    answer.textContent = 'No solution found (every trajectory failed to run or reach an answer).';
    answer.dataset.answer = '';
    return null;
  }
  sol.steps.forEach((s, i) => {
    const li = document.createElement('li');
    const head = document.createElement('div');
    head.className = 'step-head';
    head.textContent = `Step ${i + 1}  (PPM ${scores[i]?.toFixed(3) ?? '?'})`;
    const code = document.createElement('pre');
    code.textContent = [...s.comment.map((c) => `// ${c}`), s.code].join('\n');
    li.append(head, code);
    const out = sol.outputs?.[i] ?? '';
    if (out) {
      const o = document.createElement('div');
      o.className = 'output';
      o.textContent = `→ ${out}`;
      li.append(o);
    }
    steps.append(li);
  });
  answer.dataset.answer = sol.answer ?? '';
  answer.textContent = `Answer: ${sol.answer}   (${scoreLabel()} ${sol.score?.toFixed(3)}, ${plural(res.stats.rollouts, 'rollout')}${note}, ${(ms / 1000).toFixed(1)} s)`;
  return sol.answer;
}

/** PPM-guided MCTS on one question, as `rstar solve` does it, drawing the tree as it grows. */
export async function solve(question: string, o: { rollouts?: number; k?: number; maxDepth?: number; seed?: number } = {}): Promise<SolveReport> {
  if (!models) throw new Error('the models are not loaded yet');
  if (document.body.dataset.state === 'solving') throw new Error('a search is already running');
  setState('solving', 'searching…');
  try {
    const r = await search(models, question, o);
    setState('done', `done in ${(r.ms / 1000).toFixed(1)} s on ${models.backend}: ${plural(r.rollouts, 'rollout')}, ${plural(r.nodes - 1, 'step')} in the tree`);
    return r;
  } catch (e) {
    fail(e);
    throw e;
  }
}

async function search(m: Models, question: string, o: { rollouts?: number; k?: number; maxDepth?: number; seed?: number }): Promise<SolveReport> {
  const t0 = performance.now();
  const seed = o.seed ?? SEED;
  const first = m.policies[0]!;
  const proposer = policyProposer(m.policies.map((p) => p.lm), first.tokenizer, { seed });
  const scorer = new PPMScorer(m.ppm.ppm, m.ppm.tokenizer, m.sandbox);
  current = null;
  $('steps').replaceChildren();
  $('answer').textContent = '';
  $('given').textContent = '';
  $('detail').textContent = '';
  // as `rstar solve`: the policy's greedy answer anchors the final choice (SEARCH.greedyAnchor), the
  // final choice ranks terminals by SEARCH.pathScore, and where the search's answer differs from
  // greedy's it searches again with SEARCH.widen times k
  const k = o.k ?? SEARCH.k;
  const choice = { anchor: await anchorFor({ lm: first.lm, tok: first.tokenizer, sandbox: m.sandbox, promptNumbers: first.promptNumbers }, question, SEARCH.greedyAnchor, SEARCH.greedyAnchor > 0 || widerK(k) > 0) };
  let lastPaint = performance.now();
  const searchWith = async (width: number) => (await searchMany([{ id: 'q', question }], {
    proposer, scorer, sandbox: m.sandbox, grade: gradeAnswer,
    onProgress: async (p) => {
      current = { tree: p.tree, path: new Set(), selected: null };
      draw();
      setState('solving', `searching: ${plural(p.stats.rollouts, 'rollout')}, ${plural(p.tree.nodes.length - 1, 'step')} in the tree, ${plural(p.stats.terminals, 'answer')} written, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (performance.now() - lastPaint > 30) {
        await yieldToPaint();
        lastPaint = performance.now();
      }
    },
  }, { mode: 'ppm', rollouts: o.rollouts ?? SEARCH.rollouts, k: width, maxDepth: o.maxDepth ?? SEARCH.maxDepth, seed, concurrency: 1, promptNumbers: first.promptNumbers }))[0]!;
  const { result, note } = await searchOrWiden(searchWith, k, choice);
  const sol = treeSolution(result.tree, choice);
  // the PPM score of every prefix of the chosen trajectory (what `rstar solve` prints per step)
  let scores: number[] = [];
  let best: number[] = [];
  if (sol) {
    best = pathTo(result.tree, chosenTerminal(result.tree, choice)!.id); // the terminal treeSolution chose
    let prefix = result.tree.prompt;
    const texts = best.map((id) => (prefix += result.tree.nodes[id]!.text));
    scores = await scorer.score(texts, texts.map(() => question));
  }
  const ms = performance.now() - t0;
  current = { tree: result.tree, path: new Set(best), selected: null };
  draw();
  const answer = showSolution(result, sol, anchorNote(result.tree, choice) + note, scores, ms);
  return { answer, ms, rollouts: result.stats.rollouts, nodes: result.tree.nodes.length, result };
}

function readInt(id: string, fallback: number): number {
  const v = Number(($(id) as HTMLInputElement).value);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

async function onSolve(ev: Event): Promise<void> {
  ev.preventDefault();
  const question = ($('question') as HTMLTextAreaElement).value.trim();
  if (!question || !models || document.body.dataset.state === 'solving') return;
  const button = $('solve') as HTMLButtonElement;
  button.disabled = true;
  try {
    await solve(question, { rollouts: readInt('rollouts', SEARCH.rollouts), k: readInt('k', SEARCH.k), maxDepth: readInt('maxDepth', SEARCH.maxDepth), seed: Number(($('seed') as HTMLInputElement).value) || 0 });
  } catch {
    // solve() has shown the error
  } finally {
    button.disabled = false;
  }
}

async function main(): Promise<void> {
  ($('rollouts') as HTMLInputElement).value = String(SEARCH.rollouts);
  ($('k') as HTMLInputElement).value = String(SEARCH.k);
  ($('maxDepth') as HTMLInputElement).value = String(SEARCH.maxDepth);
  ($('seed') as HTMLInputElement).value = String(SEED);
  $('form').addEventListener('submit', (e) => void onSolve(e));
  models = await load();
  // for the browser test and the devtools console
  (window as unknown as { rstar: unknown }).rstar = { solve, models, tf, WebSandbox };
  ($('solve') as HTMLButtonElement).disabled = false;
  setState('ready', `ready: models loaded on ${models.backend} in ${(models.loadMs / 1000).toFixed(1)} s (${mb(models.bytes)})`);
}

window.addEventListener('unhandledrejection', (e) => fail(e.reason));
main().catch(fail);
