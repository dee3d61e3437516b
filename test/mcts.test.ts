import { describe, expect, expectTypeOf, it } from 'vitest';
import { MARK, parseSolution, promptFor } from '../src/data/steps.ts';
import { BatchCoordinator } from '../src/search/batching.ts';
import {
  addNode,
  backup,
  bestTerminal,
  createTree,
  runMCTS,
  searchMany,
  selectChild,
  uct,
  type MCTSNode,
  type ProposeRequest,
  type RunResult,
  type SandboxLike,
  type SearchDeps,
  type SearchTree,
  type StepProposer,
  type StepScorer,
  type Grader,
} from '../src/search/mcts.ts';
import type { SandboxPool } from '../src/sandbox/sandbox.ts';

// ---- fakes -----------------------------------------------------------------------------------------

/** The codes of the steps in a prefix, joined: the key the scripted fakes look things up by. */
function keyOf(prefix: string): string {
  const sol = prefix.slice(prefix.indexOf(MARK.solution) + MARK.solution.length);
  return parseSolution(sol).steps.map((s) => s.code).join(' | ');
}

/** Raw step text as a policy writes it. */
const step = (comment: string, code: string) => `// ${comment}\n${code}\n${MARK.endStep}`;

/** Scripted policy: fixed candidates per prefix (keyed by the step codes so far; '' = root). */
class ScriptedPolicy implements StepProposer {
  calls: ProposeRequest[][] = [];
  constructor(private readonly script: Record<string, string[]>) {}
  async propose(reqs: ProposeRequest[]): Promise<string[][]> {
    this.calls.push(reqs);
    return reqs.map((r) => (this.script[keyOf(r.prefix)] ?? []).slice(0, r.k));
  }
  /** Which prefixes were expanded, in order. */
  expanded(): string[] {
    return this.calls.flat().map((r) => keyOf(r.prefix));
  }
}

/** Fixed PPM: score by the code of the scored (last) step. */
class FixedPPM implements StepScorer {
  calls: string[][] = [];
  questions: (string[] | undefined)[] = [];
  constructor(private readonly scores: Record<string, number>) {}
  async score(texts: string[], questions?: string[]): Promise<number[]> {
    this.calls.push(texts);
    this.questions.push(questions);
    return texts.map((t) => {
      const codes = keyOf(t).split(' | ');
      const s = this.scores[codes[codes.length - 1]!];
      if (s === undefined) throw new Error(`FixedPPM: no score for ${codes[codes.length - 1]}`);
      return s;
    });
  }
}

/** Runs the steps as JavaScript with print(); stepOutput/answer are what the last step printed. */
function execute(codes: string[]): RunResult {
  const outs: string[][] = codes.map(() => []);
  let cur = 0;
  const print = (...xs: unknown[]) => void outs[cur]!.push(xs.map(String).join(' '));
  const src = codes.map((c, i) => `__at(${i});\n${c}`).join('\n');
  try {
    new Function('print', '__at', src)(print, (i: number) => (cur = i));
  } catch (e) {
    return { ok: false, error: String(e), output: outs.flat().join('\n'), stepOutput: '' };
  }
  const last = outs[codes.length - 1]!;
  return { ok: true, output: outs.flat().join('\n'), stepOutput: last.join('\n'), answer: last.at(-1) };
}

class FakeSandbox implements SandboxLike {
  runs = 0;
  /** delay(codes, run index) in ms, to vary timing between trees. */
  constructor(private readonly delay: (codes: string[], i: number) => number = () => 0) {}
  async run(codes: string[]): Promise<RunResult> {
    const ms = this.delay(codes, this.runs++);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return execute(codes);
  }
}

const grade = (pred: string, gold: string) => Number(pred) === Number(gold);

function deps(policy: StepProposer, extra: Partial<SearchDeps> = {}): SearchDeps {
  return { proposer: policy, sandbox: new FakeSandbox(), grade, ...extra };
}

/** Node by the code of its step (unique in these scripts). */
function byCode(tree: SearchTree, code: string): MCTSNode {
  const found = tree.nodes.filter((x) => x.step?.code === code);
  if (found.length !== 1) throw new Error(`${found.length} nodes with code ${code}`);
  return found[0]!;
}

const QA = { id: 'p1', question: 'Twice two?', answer: '4' };

// Type-level (fails under `npm run typecheck`): the real pool and grader plug straight into searchMany.
it('the real sandbox pool and grader fit the search contracts', () => {
  expectTypeOf<SandboxPool>().toExtend<SandboxLike>();
  expectTypeOf<typeof import('../src/data/grade.ts').gradeAnswer>().toExtend<Grader>();
});

// ---- UCT -------------------------------------------------------------------------------------------

describe('UCT', () => {
  it('is Q + c·√(ln N_parent / N_child), and exactly 0 for an unvisited child (rStar-Math convention)', () => {
    expect(uct({ q: 0.5, n: 2 }, 4, 2)).toBeCloseTo(0.5 + 2 * Math.sqrt(Math.log(4) / 2), 12); // 2.16511
    expect(uct({ q: 0.5, n: 2 }, 4, 2)).toBeCloseTo(2.165109, 5);
    expect(uct({ q: -1, n: 1 }, 1, 2)).toBe(-1); // ln 1 = 0: no exploration yet
    expect(uct({ q: 0.3, n: 1 }, 0, 2)).toBe(0.3); // parent unvisited (PPM priors only)
    expect(uct({ q: 0, n: 0 }, 100, 2)).toBe(0); // not +∞
    expect(uct({ q: 0.9, n: 0 }, 100, 2)).toBe(0); // Q of an unvisited node counts as 0
  });

  it('selectChild: highest UCT among non-exhausted children, ties to the lowest index', () => {
    const tree = createTree(QA, 'terminal', 'values');
    const root = tree.nodes[0]!;
    const a = addNode(tree, 0, { comment: ['a'], code: 'const a = 1;' });
    const b = addNode(tree, 0, { comment: ['b'], code: 'const b = 1;' });
    const c = addNode(tree, 0, { comment: ['c'], code: 'const c = 1;' });
    backup(tree, a, -1); // a: Q −1, N 1; root N 1
    // UCT(a) = −1 + 2√(ln1/1) = −1; b, c unvisited = 0 → tie → b (index order).
    expect(selectChild(tree, root, 2)!.id).toBe(b.id);
    backup(tree, c, -1);
    backup(tree, c, 1); // root N 3; c: Q 0, N 2 → 0 + 2√(ln3/2) = 1.482; a: −1 + 2√(ln3/1) = 1.096
    expect(uct(c, 3, 2)).toBeCloseTo(1.48230, 4);
    expect(uct(a, 3, 2)).toBeCloseTo(1.09629, 4);
    expect(selectChild(tree, root, 2)!.id).toBe(c.id);
    // With a small c exploration no longer outweighs Q −1 vs unvisited 0: a → −0.79, b 0, c 0.148.
    expect(selectChild(tree, root, 0.2)!.id).toBe(c.id);
    expect(selectChild(tree, root, 0)!.id).toBe(b.id); // c: Q 0 ties b: 0, b first
    c.exhausted = true;
    expect(selectChild(tree, root, 2)!.id).toBe(a.id);
    a.exhausted = true;
    b.exhausted = true;
    expect(selectChild(tree, root, 2)).toBeNull();
  });

  it('in search: a visited child with Q −1 (N 2, parent N 2) scores −1+2√(ln2/2)=0.177 and beats an unvisited sibling; with c=0.5 it does not', async () => {
    const script = {
      '': [step('a', 'const a = 1;'), step('b', 'const b = 1;')],
      'const a = 1;': [step('wrong', 'print(a + 5);'), step('a2', 'const a2 = 2;'), step('a3', 'const a3 = 3;')],
      // a2 and a3 have no candidates: dead ends.
      'const b = 1;': [step('right', 'print(b * 4);')],
    };
    const p2 = new ScriptedPolicy(script);
    const r2 = await runMCTS(QA, deps(p2), { promptNumbers: 'values', rollouts: 2, c: 2 });
    // Rollout 1: root, a (wrong terminal −1), a2 (dead end −1). Rollout 2 returns to a → a3.
    expect(p2.expanded()).toEqual(['', 'const a = 1;', 'const a = 1; | const a2 = 2;', 'const a = 1; | const a3 = 3;']);
    const t = r2.tree;
    expect(byCode(t, 'const a3 = 3;')).toMatchObject({ n: 1, q: -1, deadEnd: true, exhausted: true });
    expect(byCode(t, 'const a = 1;')).toMatchObject({ n: 3, valueSum: -3, q: -1, exhausted: true });
    expect(t.nodes[0]).toMatchObject({ n: 3, q: -1, exhausted: false });
    expect(byCode(t, 'const b = 1;')).toMatchObject({ n: 0, q: 0, expanded: false });

    const p05 = new ScriptedPolicy(script);
    await runMCTS(QA, deps(p05), { promptNumbers: 'values', rollouts: 2, c: 0.5 }); // a: −1 + 0.5·0.589 = −0.71 < 0
    expect(p05.expanded()).toEqual(['', 'const a = 1;', 'const a = 1; | const a2 = 2;', 'const b = 1;']);
  });
});

// ---- terminal-guided search --------------------------------------------------------------------------

describe('terminal-guided MCTS', () => {
  // first code lines of the second level: what survived the checks below the first step
  const kids = (t: Awaited<ReturnType<typeof runMCTS>>['tree']) => t.nodes[t.nodes[0]!.children[0]!]!.children.map((id) => t.nodes[id]!.step!.code.split('\n')[0]);
  const script = {
    '': [step('a', 'const a = 2;'), step('b', 'const b = 3;'), step('guess', 'print(5);')],
    'const a = 2;': [step('double', 'print(a * 2);'), step('inc', 'print(a + 1);')],
    'const b = 3;': [step('c', 'const c = b + 1;')],
    'const b = 3; | const c = b + 1;': [step('answer', 'print(c);')],
  };

  it('scores terminals ±1 against the known answer and backs them up (exact Q, N)', async () => {
    const policy = new ScriptedPolicy(script);
    const { tree, stats } = await runMCTS(QA, deps(policy), { promptNumbers: 'values', rollouts: 5 });
    // Rollout 1: root → {a, b, guess(5: −1)}; a (tie with b, first) → {a*2 = 4: +1, a+1 = 3: −1}.
    // Rollout 2: b → c → print(c) = 4: +1. Then everything is exhausted, so the search stops.
    expect(policy.expanded()).toEqual(['', 'const a = 2;', 'const b = 3;', 'const b = 3; | const c = b + 1;']);
    const root = tree.nodes[0]!;
    expect(root).toMatchObject({ n: 4, valueSum: 0, q: 0, exhausted: true });
    expect(byCode(tree, 'print(5);')).toMatchObject({ terminal: true, answer: '5', correct: false, n: 1, q: -1 });
    expect(byCode(tree, 'const a = 2;')).toMatchObject({ n: 2, valueSum: 0, q: 0 });
    expect(byCode(tree, 'print(a * 2);')).toMatchObject({ answer: '4', correct: true, n: 1, q: 1, depth: 2 });
    expect(byCode(tree, 'print(a + 1);')).toMatchObject({ answer: '3', correct: false, n: 1, q: -1 });
    expect(byCode(tree, 'const b = 3;')).toMatchObject({ n: 1, q: 1 });
    expect(byCode(tree, 'const c = b + 1;')).toMatchObject({ n: 1, q: 1, depth: 2 });
    expect(byCode(tree, 'print(c);')).toMatchObject({ answer: '4', correct: true, q: 1, depth: 3 });
    expect(stats).toEqual({
      rollouts: 2,
      expanded: 4,
      candidates: 7,
      unparseable: 0,
      duplicates: 0,
      contradictions: 0,
      undone: 0,
      reused: 0,
      chanceHits: 0,
      sandboxFailures: 0,
      deadEnds: 0,
      depthLimited: 0,
      terminals: 4,
      correct: 2,
    });
    // Prefix = prompt + serialized steps so far; the sandbox got the ancestors' codes too.
    expect(policy.calls[3]![0]!.prefix).toBe(
      `${MARK.question}Twice two?${MARK.solution}\n// b\nconst b = 3;\n${MARK.endStep}\n// c\nconst c = b + 1;\n${MARK.endStep}\n`,
    );
    expect(byCode(tree, 'print(c);').text).toBe(`// answer\nprint(c);\n${MARK.endSolution}\n`);
    // Trees are plain data.
    expect(JSON.parse(JSON.stringify(tree))).toEqual(tree);
    expect(bestTerminal(tree)?.answer ?? null).toBe('4');
  });

  it('drops failing candidates; a node whose candidates all fail is a dead end scored −1 and backed up', async () => {
    const policy = new ScriptedPolicy({
      '': [step('x', 'const x = 1;'), step('boom', 'undefinedFn();')],
      'const x = 1;': [step('bad', 'throw new Error("no");'), step('bad2', 'x.y.z = 1;')],
    });
    const { tree, stats } = await runMCTS(QA, deps(policy), { promptNumbers: 'values', rollouts: 3 });
    expect(tree.nodes.map((x) => x.step?.code ?? null)).toEqual([null, 'const x = 1;']);
    expect(tree.nodes[1]).toMatchObject({ deadEnd: true, exhausted: true, n: 1, q: -1, children: [] });
    expect(tree.nodes[0]).toMatchObject({ n: 1, q: -1, exhausted: true });
    expect(stats).toMatchObject({ rollouts: 1, sandboxFailures: 3, deadEnds: 1, expanded: 2 });
  });

  it('a root with no runnable candidate ends the search at once', async () => {
    const policy = new ScriptedPolicy({ '': [step('boom', 'nope();')] });
    const { tree, stats } = await runMCTS(QA, deps(policy), { promptNumbers: 'values', rollouts: 4 });
    expect(tree.nodes).toHaveLength(1);
    expect(tree.nodes[0]).toMatchObject({ deadEnd: true, n: 1, q: -1, exhausted: true });
    expect(stats.rollouts).toBe(1);
    expect(bestTerminal(tree)?.answer ?? null).toBeNull();
  });

  it('removes duplicate candidates (whitespace-normalised comment + code) and unparseable ones', async () => {
    const policy = new ScriptedPolicy({
      '': [
        step('one', 'const x = 1;'),
        `//   one  \n   const  x =   1;\n${MARK.endStep}`,
        step('one', 'const x = 2;'),
        step('two', 'const x = 1;'),
        `// just a comment\n${MARK.endStep}`,
        step('one', 'const x = 1;'),
      ],
    });
    const sandbox = new FakeSandbox();
    const { tree, stats } = await runMCTS(QA, deps(policy, { sandbox }), { promptNumbers: 'values', rollouts: 1, maxDepth: 1 });
    expect(tree.nodes[0]!.children.map((id) => tree.nodes[id]!.text)).toEqual([
      `// one\nconst x = 1;\n${MARK.endStep}\n`,
      `// one\nconst x = 2;\n${MARK.endStep}\n`,
      `// two\nconst x = 1;\n${MARK.endStep}\n`,
    ]);
    expect(stats).toMatchObject({ candidates: 6, duplicates: 2, unparseable: 1 });
    expect(sandbox.runs).toBe(3); // duplicates never reach the sandbox
    expect(policy.calls[0]![0]!.k).toBe(8);
  });

  it('drops a candidate whose code contradicts its operation comment before the sandbox (checkComments), keeps it when off', async () => {
    const script = {
      '': [
        step('Subtract n1 from n0.', 'const answer = n1 - n0;\nprint(answer);'), // contradicts: n0 - n1
        step('Subtract n1 from n0.', 'const answer = n0 - n1;\nprint(answer);'),
        step('Add n0 and n1.', 'const answer = n1 + n0;\nprint(answer);'), // sums either way
        step('Take the difference.', 'const answer = n1 - n0;\nprint(answer);'), // not the grammar: not judged
      ],
    };
    const Q = { id: 'p2', question: 'Had 7, gave 3?', answer: '4' };
    const on = new FakeSandbox();
    const a = await runMCTS(Q, deps(new ScriptedPolicy(script), { sandbox: on }), { rollouts: 1, maxDepth: 1, promptNumbers: 'names' });
    expect(a.tree.nodes[0]!.children.map((id) => a.tree.nodes[id]!.step!.code.split('\n')[0])).toEqual([
      'const answer = n0 - n1;', 'const answer = n1 + n0;', 'const answer = n1 - n0;',
    ]);
    expect(a.stats).toMatchObject({ candidates: 4, contradictions: 1, sandboxFailures: 0, terminals: 3, correct: 1 });
    expect(on.runs).toBe(3);
    const off = await runMCTS(Q, deps(new ScriptedPolicy(script)), { rollouts: 1, maxDepth: 1, promptNumbers: 'names', checkComments: false });
    expect(off.stats).toMatchObject({ candidates: 4, contradictions: 0, terminals: 4, correct: 1 });
  });

  it('drops a candidate that undoes an earlier step before the sandbox (checkUndo), keeps it when off', async () => {
    const script = {
      '': [step('Multiply n0 by n1.', 'const r1 = n0 * n1;')],
      'const r1 = n0 * n1;': [
        step('Divide r1 by n0.', 'const answer = r1 / n0;\nprint(answer);'), // n1 again
        step('Subtract n2 from r1.', 'const answer = r1 - n2;\nprint(answer);'),
        step('Subtract r1 from r1.', 'const answer = r1 - r1;\nprint(answer);'), // always 0
      ],
    };
    const Q = { id: 'p3', question: '3 boxes of 8, ate 5?', answer: '19' };
    const on = new FakeSandbox();
    const a = await runMCTS(Q, deps(new ScriptedPolicy(script), { sandbox: on }), { rollouts: 2, maxDepth: 2, promptNumbers: 'names' });
    expect(kids(a.tree)).toEqual(['const answer = r1 - n2;']);
    expect(a.stats).toMatchObject({ candidates: 4, undone: 2 });
    // r1 / n0 also uses n0 twice: the reuse check off too, to see the undo check alone
    const off = await runMCTS(Q, deps(new ScriptedPolicy(script)), { rollouts: 2, maxDepth: 2, promptNumbers: 'names', checkUndo: false, checkReuse: false });
    expect(kids(off.tree)).toHaveLength(3);
    expect(off.stats).toMatchObject({ undone: 0 });
  });

  it('drops a bootstrap-grammar candidate that uses a question number twice (checkReuse), keeps it when off', async () => {
    const script = {
      '': [step('Add n1 and n2.', 'const r1 = n1 + n2;')],
      'const r1 = n1 + n2;': [
        step('Multiply n2 by r1.', 'const answer = n2 * r1;\nprint(answer);'), // n2 again
        step('Multiply n0 by r1.', 'const answer = n0 * r1;\nprint(answer);'),
      ],
    };
    const Q = { id: 'p4', question: '5 points each for 2 and 3 finds?', answer: '25' };
    const a = await runMCTS(Q, deps(new ScriptedPolicy(script)), { rollouts: 2, maxDepth: 2, promptNumbers: 'names', checkReuse: true });
    expect(kids(a.tree)).toEqual(['const answer = n0 * r1;']);
    expect(a.stats).toMatchObject({ candidates: 3, reused: 1 });
    const off = await runMCTS(Q, deps(new ScriptedPolicy(script)), { rollouts: 2, maxDepth: 2, promptNumbers: 'names', checkReuse: false });
    expect(kids(off.tree)).toHaveLength(2);
    expect(off.stats).toMatchObject({ reused: 0 });
    // a GSM8K problem is searched without it (steps.ts reuseCheckApplies)
    const gsm = await runMCTS({ ...Q, source: 'gsm8k' }, deps(new ScriptedPolicy(script)), { rollouts: 2, maxDepth: 2, promptNumbers: 'names', checkReuse: true });
    expect(kids(gsm.tree)).toHaveLength(2);
    expect(gsm.stats).toMatchObject({ reused: 0 });
  });

  it('a non-terminal step at maxDepth scores −1; a terminal there is graded normally', async () => {
    const policy = new ScriptedPolicy({
      '': [step('a', 'const a = 2;')],
      'const a = 2;': [step('b', 'const b = a * 2;'), step('answer', 'print(a * 2);')],
      'const a = 2; | const b = a * 2;': [step('never', 'print(b);')],
    });
    const { tree, stats } = await runMCTS(QA, deps(policy), { promptNumbers: 'values', rollouts: 4, maxDepth: 2 });
    expect(policy.expanded()).toEqual(['', 'const a = 2;']);
    expect(byCode(tree, 'const b = a * 2;')).toMatchObject({ depth: 2, depthLimited: true, exhausted: true, n: 1, q: -1 });
    expect(byCode(tree, 'print(a * 2);')).toMatchObject({ depth: 2, correct: true, q: 1 });
    expect(byCode(tree, 'const a = 2;')).toMatchObject({ n: 2, q: 0 });
    expect(tree.nodes[0]).toMatchObject({ n: 2, q: 0, exhausted: true });
    expect(stats).toMatchObject({ rollouts: 1, depthLimited: 1 });
  });

  it('needs the known answer', async () => {
    await expect(searchMany([{ id: 'x', question: 'q' }], deps(new ScriptedPolicy({})), { promptNumbers: 'values', mode: 'terminal' })).rejects.toThrow(
      /known answer \(problem x\)/,
    );
  });
});

// ---- PPM-augmented search ------------------------------------------------------------------------------

describe('PPM-augmented MCTS', () => {
  const script = {
    '': [step('a', 'const a = 2;'), step('b', 'const b = 3;')],
    'const a = 2;': [step('double', 'print(a * 2);')],
    'const b = 3;': [step('b', 'print(b);')],
  };

  it('initialises each new non-terminal child with its PPM score as one visit; backups average with it', async () => {
    const policy = new ScriptedPolicy(script);
    const ppm = new FixedPPM({ 'const a = 2;': 0.2, 'const b = 3;': 0.6 });
    const { tree } = await runMCTS(QA, deps(policy, { scorer: ppm }), { promptNumbers: 'values', mode: 'ppm', rollouts: 4 });
    // Root N = 0 → no exploration term: b (prior 0.6) before a (0.2).
    expect(policy.expanded()).toEqual(['', 'const b = 3;', 'const a = 2;']);
    // Terminals with a known answer are graded, not PPM-scored: one PPM call, for a and b only.
    expect(ppm.calls).toHaveLength(1);
    expect(ppm.calls[0]!.map(keyOf)).toEqual(['const a = 2;', 'const b = 3;']);
    expect(ppm.calls[0]![0]).toBe(`${tree.prompt}// a\nconst a = 2;\n${MARK.endStep}\n`);
    const a = byCode(tree, 'const a = 2;');
    const b = byCode(tree, 'const b = 3;');
    expect(b.prior).toBe(0.6);
    expect(b.n).toBe(2);
    expect(b.q).toBeCloseTo((0.6 - 1) / 2, 12); // prior + wrong terminal (3 ≠ 4)
    expect(a.prior).toBe(0.2);
    expect(a.n).toBe(2);
    expect(a.q).toBeCloseTo((0.2 + 1) / 2, 12); // prior + correct terminal
    // The prior visits are the children's own: the root saw only the two terminal backups.
    expect(tree.nodes[0]).toMatchObject({ n: 2, valueSum: 0, q: 0 });
    expect(byCode(tree, 'print(a * 2);')).toMatchObject({ correct: true, q: 1, n: 1, prior: null });
  });

  it('at test time (no known answer) a terminal is worth its PPM score; the best terminal is the highest Q', async () => {
    const policy = new ScriptedPolicy({
      '': [step('four', 'print(4);'), step('five', 'print(5);'), step('a', 'const a = 1;')],
      'const a = 1;': [step('one', 'print(a);')],
    });
    const ppm = new FixedPPM({ 'print(4);': 0.9, 'print(5);': -0.3, 'const a = 1;': 0.1, 'print(a);': 0.5 });
    const problem = { id: 't', question: 'Which?' };
    const { tree } = await runMCTS(problem, deps(policy, { scorer: ppm }), { promptNumbers: 'values', mode: 'ppm', rollouts: 3 });
    expect(tree.gold).toBeNull();
    expect(byCode(tree, 'print(4);')).toMatchObject({ answer: '4', correct: null, n: 1, q: 0.9 });
    expect(byCode(tree, 'print(5);')).toMatchObject({ answer: '5', correct: null, n: 1, q: -0.3 });
    expect(byCode(tree, 'print(a);')).toMatchObject({ answer: '1', correct: null, n: 1, q: 0.5 });
    const a = byCode(tree, 'const a = 1;');
    expect(a.n).toBe(2);
    expect(a.q).toBeCloseTo((0.1 + 0.5) / 2, 12);
    expect(tree.nodes[0]!.n).toBe(3);
    expect(tree.nodes[0]!.valueSum).toBeCloseTo(0.9 - 0.3 + 0.5, 12);
    expect(ppm.calls.map((c) => c.length)).toEqual([3, 1]);
    expect(bestTerminal(tree)?.answer ?? null).toBe('4');
  });

  it('needs a scorer', async () => {
    await expect(runMCTS(QA, deps(new ScriptedPolicy(script)), { promptNumbers: 'values', mode: 'ppm' })).rejects.toThrow(/scorer/);
  });
});

describe('bestTerminal', () => {
  it('takes the terminal with the highest Q, ties to more visits', () => {
    const tree = createTree(QA, 'ppm', 'values');
    const t1 = addNode(tree, 0, { comment: [], code: 'print(4);' });
    const t2 = addNode(tree, 0, { comment: [], code: 'print(5);' });
    const t3 = addNode(tree, 0, { comment: [], code: 'print(6);' });
    t1.answer = '4';
    t2.answer = '5';
    t3.answer = '6';
    backup(tree, t1, 0.5);
    backup(tree, t2, 0.5);
    backup(tree, t2, 0.5);
    backup(tree, t3, 0.2);
    expect(bestTerminal(tree)?.answer ?? null).toBe('5');
    backup(tree, t3, 1);
    backup(tree, t3, 1); // Q 0.733
    expect(bestTerminal(tree)?.answer ?? null).toBe('6');
  });
});

// ---- many trees: batching, determinism ---------------------------------------------------------------

describe('searchMany', () => {
  // Each tree: root → {a, b}; a → {wrong, a2}; a2 → {right}; b → {right}. Same shape for every problem.
  const script = {
    '': [step('a', 'const a = 2;'), step('b', 'const b = 4;')],
    'const a = 2;': [step('wrong', 'print(a);'), step('a2', 'const a2 = a * 2;')],
    'const a = 2; | const a2 = a * 2;': [step('right', 'print(a2);')],
    'const b = 4;': [step('right', 'print(b);')],
  };
  const problems = [0, 1, 2].map((i) => ({ id: `q${i}`, question: `Problem ${i}: twice two?`, answer: '4' }));
  // Runs take different times, so the trees never arrive at the policy together by luck.
  const delayByTree = (_codes: string[], i: number) => (i * 7) % 5;

  it('sends the pending requests of all concurrent trees as one policy call', async () => {
    const policy = new ScriptedPolicy(script);
    const coordinator = new BatchCoordinator({ maxBatch: 64 });
    const sandbox = new FakeSandbox(delayByTree);
    const results = await searchMany(problems, deps(policy, { sandbox, coordinator }), { promptNumbers: 'values', concurrency: 3, rollouts: 8 });
    expect(results.map((r) => r.problemId)).toEqual(['q0', 'q1', 'q2']);
    // Identical shapes → the trees expand in lockstep: every call holds one request per tree.
    expect(policy.calls.map((c) => c.length)).toEqual([3, 3, 3, 3]);
    // the prompt tags the question's numbers (steps.ts tagQuestion)
    expect(policy.calls[0]!.map((r) => r.prefix.slice(MARK.question.length, MARK.question.length + 12))).toEqual([
      'Problem n0=0',
      'Problem n0=1',
      'Problem n0=2',
    ]);
    // a policy trained on prompts without the values gets them so
    const named = new ScriptedPolicy(script);
    await searchMany(problems, deps(named, { sandbox: new FakeSandbox(delayByTree) }), { concurrency: 3, rollouts: 8, promptNumbers: 'names' });
    expect(named.calls[0]!.map((r) => r.prefix)).toEqual(problems.map((p) => `${MARK.question}Problem n0: twice two?${MARK.solution}\n`));
    expect(coordinator.proposeStats).toEqual({ calls: 4, requests: 12, largest: 3 });
    for (const r of results) expect(r.stats.expanded).toBe(4);
  });

  it('batches PPM calls the same way, and respects maxBatch', async () => {
    const ppm = new FixedPPM({ 'const a = 2;': 0.1, 'const b = 4;': 0.3, 'const a2 = a * 2;': 0.2 });
    const policy = new ScriptedPolicy(script);
    const coordinator = new BatchCoordinator({ maxBatch: 2 });
    await searchMany(problems, deps(policy, { scorer: ppm, sandbox: new FakeSandbox(delayByTree), coordinator }), { promptNumbers: 'values',
      mode: 'ppm',
      concurrency: 3,
      maxBatch: 2,
    });
    expect(Math.max(...policy.calls.map((c) => c.length))).toBe(2);
    expect(coordinator.proposeStats.requests).toBe(12);
    // PPM texts per tree: root (a, b) and a (a2) → 3 texts per tree, 9 in all, at most 2 per call.
    expect(ppm.calls.flat()).toHaveLength(9);
    expect(Math.max(...ppm.calls.map((c) => c.length))).toBeLessThanOrEqual(2);
    // each text travels with its own tree's question, through the batching too
    const textsWithQuestion = (f: FixedPPM) => f.calls.flatMap((c, i) => c.map((t, j) => [t, f.questions[i]?.[j]] as const));
    for (const [t, q] of textsWithQuestion(ppm)) expect(t.startsWith(promptFor(q!, 'values'))).toBe(true);
    expect(new Set(textsWithQuestion(ppm).map(([, q]) => q)).size).toBe(3);

    const ppm2 = new FixedPPM({ 'const a = 2;': 0.1, 'const b = 4;': 0.3, 'const a2 = a * 2;': 0.2 });
    await searchMany(problems, deps(new ScriptedPolicy(script), { scorer: ppm2, sandbox: new FakeSandbox(delayByTree) }), { promptNumbers: 'values',
      mode: 'ppm',
      concurrency: 3,
    });
    expect(ppm2.calls.map((c) => c.length)).toEqual([6, 3]); // all roots' children, then all a's
    for (const [t, q] of textsWithQuestion(ppm2)) expect(t.startsWith(promptFor(q!, 'values'))).toBe(true);
  });

  it('runs at most `concurrency` trees at once; the next problem starts as a tree finishes', async () => {
    const policy = new ScriptedPolicy(script);
    const done: string[] = [];
    const results = await searchMany(
      problems,
      deps(policy, { sandbox: new FakeSandbox(delayByTree), onDone: (r) => void done.push(r.problemId) }),
      { promptNumbers: 'values', concurrency: 2 },
    );
    expect(policy.calls[0]!.length).toBe(2);
    expect(Math.max(...policy.calls.map((c) => c.length))).toBe(2);
    expect(policy.calls.flat()).toHaveLength(12);
    expect(done.sort()).toEqual(['q0', 'q1', 'q2']);
    expect(results.every((r) => r.tree.nodes[0]!.q === 1 / 3)).toBe(true); // −1, +1, +1 at the root
  });

  it('a model failure rejects the search (no hang)', async () => {
    const broken: StepProposer = { propose: async () => Promise.reject(new Error('decode failed')) };
    await expect(searchMany(problems, deps(broken), { promptNumbers: 'values', concurrency: 2 })).rejects.toThrow('decode failed');
  });

  it('is deterministic given the seed, whatever the timing; the seed reaches the policy per request', async () => {
    // A "sampling" policy: which candidates it returns depends only on the request's own seed.
    const pool = [
      step('p', 'const p = 1;'),
      step('q', 'const q = 2;'),
      step('r', 'const r = 3;'),
      step('ans4', 'print(4);'),
      step('ans5', 'print(5);'),
      step('boom', 'missing();'),
    ];
    const sampler: StepProposer = {
      async propose(reqs) {
        return reqs.map((r) => Array.from({ length: 3 }, (_, i) => pool[((r.seed ?? 0) >>> (i * 4)) % pool.length]!));
      },
    };
    const run = async (seed: number, delay: (codes: string[], i: number) => number) =>
      searchMany(problems, deps(sampler, { sandbox: new FakeSandbox(delay) }), { promptNumbers: 'values', seed, rollouts: 6, concurrency: 3, maxDepth: 4 });
    const a = await run(7, (_, i) => i % 3);
    const b = await run(7, (_, i) => (i * 5) % 4); // different timing, same seed
    const c = await run(8, (_, i) => i % 3);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    expect(a.some((r) => r.tree.nodes.length > 3)).toBe(true); // the trees are not trivial
  });
});

describe('onProgress', () => {
  const script = {
    '': [step('a', 'const a = 2;'), step('b', 'const b = 3;'), step('guess', 'print(5);')],
    'const a = 2;': [step('double', 'print(a * 2);'), step('inc', 'print(a + 1);')],
    'const b = 3;': [step('c', 'const c = b + 1;')],
    'const b = 3; | const c = b + 1;': [step('answer', 'print(c);')],
  };

  it('reports every expansion with the nodes it added (values already backed up) and every rollout, and is awaited', async () => {
    const policy = new ScriptedPolicy(script);
    const seen: { event: string; node: string; added: string[]; nodes: number; rootN: number; rollouts: number }[] = [];
    let busy = false;
    const code = (t: SearchTree, id: number) => t.nodes[id]!.step?.code ?? '';
    const { tree } = await runMCTS(QA, deps(policy, {
      onProgress: async (p) => {
        expect(busy).toBe(false);
        const calls = policy.calls.length;
        seen.push({ event: p.event, node: code(p.tree, p.node), added: p.added.map((id) => code(p.tree, id)), nodes: p.tree.nodes.length, rootN: p.tree.nodes[0]!.n, rollouts: p.stats.rollouts });
        busy = true;
        await new Promise((r) => setTimeout(r, 5));
        busy = false;
        // awaited: the search made no model call while the hook was pending
        expect(policy.calls.length).toBe(calls);
      },
    }), { promptNumbers: 'values', rollouts: 5 });
    expect(seen).toEqual([
      { event: 'expand', node: '', added: ['const a = 2;', 'const b = 3;', 'print(5);'], nodes: 4, rootN: 1, rollouts: 0 },
      { event: 'expand', node: 'const a = 2;', added: ['print(a * 2);', 'print(a + 1);'], nodes: 6, rootN: 3, rollouts: 0 },
      { event: 'rollout', node: '', added: [], nodes: 6, rootN: 3, rollouts: 1 },
      { event: 'expand', node: 'const b = 3;', added: ['const c = b + 1;'], nodes: 7, rootN: 3, rollouts: 1 },
      { event: 'expand', node: 'const c = b + 1;', added: ['print(c);'], nodes: 8, rootN: 4, rollouts: 1 },
      { event: 'rollout', node: '', added: [], nodes: 8, rootN: 4, rollouts: 2 },
    ]);
    expect(tree.nodes).toHaveLength(8);
  });

  it('reports a dead end as an expansion that added nothing, with the problem index', async () => {
    const events: [number, string, number][] = [];
    await searchMany([QA, { ...QA, id: 'p2' }], deps(new ScriptedPolicy({ '': [step('boom', 'missing();')] }), {
      onProgress: (p) => void events.push([p.index, p.event, p.added.length]),
    }), { promptNumbers: 'values', concurrency: 1 });
    expect(events).toEqual([[0, 'expand', 0], [0, 'rollout', 0], [1, 'expand', 0], [1, 'rollout', 0]]);
  });
});
