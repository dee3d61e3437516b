// self-evolve resumability: SIGKILL a run while round 1's MCTS is in progress, run the same command
// again, and the round's trajectories / pairs / SFT set equal those of an uninterrupted run.
//
// To make the comparison mean something, the searches must find trajectories: round 0 is prepared by
// hand (test/fixtures/hand-built-run.ts: a synthetic bootstrap set and a bigram-machine policy).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { finish } from './child.ts';
import { prepareRoundZero, searchedProblems } from './fixtures/hand-built-run.ts';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../src/model/backends/backend.ts';
import { readTensorFile } from '../src/model/checkpoint.ts';
import { loadDataset, splitDev } from '../src/data/datasets.ts';
import { dedupePairs, readPairs, readTrajectories, writePairs, writeTrajectories, type TrajectoryRow } from '../src/data/arrow.ts';
import { bootstrapSplits } from '../src/data/bootstrap/index.ts';
import { loadProblemsFor, schemaBatch, splitOf } from '../src/data/problems.ts';
import { dropSimilar } from '../src/data/groups.ts';
import { crossFitPairs, foldOf } from '../src/train/cross-fit.ts';
import { pairedCounts, roundsTable, type RoundMetrics } from '../src/train/report.ts';
import { PRESETS, type Preset } from '../src/train/presets.ts';
import { bootstrapKept } from '../src/train/self-evolve.ts';
import type { SearchLine, ShardJob } from '../src/train/shards.ts';
import { splitPairs } from '../src/train/ppm.ts';
import { parseStep, questionNumbers, serializeStep } from '../src/data/steps.ts';
import { convertProblem } from '../src/data/bootstrap/index.ts';
import { mcnemarExact } from '../src/search/evaluate.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SELF_EVOLVE = path.join(REPO, 'src/train/self-evolve.ts');
const SEED = 1234;
const SEARCH = 6;
const OVERRIDE: Partial<Preset> = {
  searchProblems: SEARCH, devProblems: 1, sftSteps: 1, ppmSteps: 1, bootstrapLimit: 8,
  k: 2, maxDepth: 3, rounds: [{ rollouts: 4, mode: 'terminal' }], testSearch: { rollouts: 1, k: 2, maxDepth: 3 },
};

let root: string;
let base: string;



function spawnRun(out: string, rounds = 1, override: Partial<Preset> = OVERRIDE, ship?: string): ChildProcess {
  const script = `
    import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
    import { selfEvolve } from ${JSON.stringify(SELF_EVOLVE)};
    await setupBackend('wasm');
    const r = await selfEvolve({ out: ${JSON.stringify(out)}, rounds: ${rounds}, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true, override: ${JSON.stringify(override)}${ship ? `, ship: ${JSON.stringify(ship)}` : ''} });
    console.log(r.table);`;
  // its own process group: the search shards it spawns are killed with it
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' },
  });
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

beforeAll(async () => {
  await setupBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-evolve-'));
  base = path.join(root, 'base');
  await prepareRoundZero(base, { seed: SEED, search: SEARCH });
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('self-evolve', () => {
  it('a run killed during round 1 MCTS and run again ends with the uninterrupted run\'s data', async () => {
    const killed = path.join(root, 'killed');
    const ref = path.join(root, 'ref');
    for (const d of [killed, ref]) fs.cpSync(base, d, { recursive: true });
    const shard = path.join(killed, 'round-1', 'search', 'shard-0.jsonl');
    const sftFile = (d: string) => path.join(d, 'round-1', 'sft.arrow');

    // the uninterrupted reference runs alongside
    const refRun = finish(spawnRun(ref));
    const a = spawnRun(killed);
    const aDone = finish(a);
    let atKill = -1;
    let searchDoneAtKill = true;
    const t0 = Date.now();
    while (Date.now() - t0 < 90_000 && a.exitCode === null) {
      if (lines(shard).length >= 1) {
        searchDoneAtKill = fs.existsSync(sftFile(killed));
        process.kill(-a.pid!, 'SIGKILL');
        atKill = lines(shard).length;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const first = await aDone;
    expect(atKill, `never saw a search line before the run ended:\n${first.stderr}`).toBeGreaterThanOrEqual(1);
    expect(first.signal).toBe('SIGKILL');
    // killed while the search stage was still open
    expect(searchDoneAtKill).toBe(false);
    expect(fs.existsSync(sftFile(killed))).toBe(false);
    const before = lines(shard).flatMap((l) => {
      try {
        return [JSON.parse(l) as SearchLine];
      } catch {
        return []; // a line torn by the kill
      }
    });
    expect(before.length).toBeGreaterThanOrEqual(1);

    const second = await finish(spawnRun(killed));
    expect(second.code, second.stderr).toBe(0);
    const refDone = await refRun;
    expect(refDone.code, refDone.stderr).toBe(0);

    // every searched problem once in the shard file: no problem searched twice, none lost
    const shardLines = lines(shard).map((l) => JSON.parse(l) as SearchLine);
    const ids = shardLines.map((l) => l.problemId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(SEARCH);
    expect(lines(path.join(ref, 'round-1', 'search', 'shard-0.jsonl')).length).toBe(SEARCH);

    for (const [name, read] of [
      ['trajectories.arrow', readTrajectories],
      ['sft.arrow', readTrajectories],
      ['pairs.arrow', readPairs],
    ] as const) {
      const got = read(path.join(killed, 'round-1', name));
      const want = read(path.join(ref, 'round-1', name));
      expect(got, name).toEqual(want);
      const keys = got.map((r) => JSON.stringify(r));
      expect(new Set(keys).size, `${name} has duplicate rows`).toBe(keys.length);
    }
    // the comparison is not vacuous: the hand-built policy's trees reach answers, some right
    const trajs = readTrajectories(path.join(ref, 'round-1', 'trajectories.arrow'));
    expect(trajs.length).toBeGreaterThan(0);
    expect(trajs.some((t) => t.correct)).toBe(true);
    expect(readTrajectories(sftFile(ref)).length).toBeGreaterThan(0);
    expect(readPairs(path.join(ref, 'round-1', 'pairs.arrow')).length).toBeGreaterThan(0);
    // the resumed search kept the problems finished before the kill instead of searching them again
    expect(shardLines.slice(0, before.length)).toEqual(before);

    const md = fs.readFileSync(path.join(killed, 'rounds.md'), 'utf8');
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'));
    expect(row, md).toBeDefined();
    expect(row).toContain(`| 1 | ${SEARCH} |`);
    expect(second.stdout).toContain('| 1 |');
    const m = JSON.parse(fs.readFileSync(path.join(killed, 'round-1', 'metrics.json'), 'utf8'));
    const mRef = JSON.parse(fs.readFileSync(path.join(ref, 'round-1', 'metrics.json'), 'utf8'));
    for (const k of ['problemsSearched', 'solved', 'sftTrajectories', 'pairs', 'devPairs']) expect(m[k], k).toBe(mRef[k]);
    // PPM-r1 is also scored on pairs of the dev problems (terminal-guided trees over them)
    expect(md).toContain('PPM pair acc., unseen dev problems');
    expect(fs.existsSync(path.join(killed, 'round-1', 'dev-pairs', 'shard-0.jsonl'))).toBe(true);
    expect(m.devPairs).toBeGreaterThanOrEqual(0);
    // greedy vs MCTS + PPM, paired on the same dev problems
    expect(md).toContain('McNemar p');
    expect(m.mctsVsGreedy.onlyMcts + m.mctsVsGreedy.onlyGreedy).toBeLessThanOrEqual(m.devN);
    expect(m.mctsVsGreedy).toEqual(mRef.mctsVsGreedy);
    if (m.devPairs > 0) expect(m.ppmDevPairAccuracy).toBeGreaterThanOrEqual(0);
    else expect(m.ppmDevPairAccuracy).toBeNull();
    for (const d of [killed, ref]) {
      expect(fs.existsSync(path.join(d, 'round-1', 'policy', 'config.json'))).toBe(true);
      expect(fs.existsSync(path.join(d, 'round-1', 'ppm', 'config.json'))).toBe(true);
    }
  }, 240_000);
});

describe('search shards', () => {
  it('exit with the process that started them, however it dies', async () => {
    const dir = path.join(root, 'orphans');
    const problems = loadDataset('mawps').slice(0, 400).map((p) => ({ id: p.id, question: p.question, answer: p.answer, source: p.source }));
    const job = { kind: 'search', policy: path.join(base, 'round-0', 'policy'), members: [], round: 1, seed: 1, search: { rollouts: 4, k: 2, maxDepth: 3, mode: 'terminal' } };
    const script = `
      import { runSharded } from ${JSON.stringify(path.join(REPO, 'src/train/shards.ts'))};
      await runSharded({ dir: ${JSON.stringify(dir)}, job: ${JSON.stringify(job)}, problems: ${JSON.stringify(problems)}, workers: 1, label: 'x', backend: 'wasm', quiet: true });`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' } });
    const done = finish(parent);
    const shard = path.join(dir, 'shard-0.jsonl');
    const t0 = Date.now();
    while (!lines(shard).length && Date.now() - t0 < 60_000 && parent.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    expect(lines(shard).length, (await Promise.race([done, Promise.resolve({ stderr: '' })])).stderr).toBeGreaterThanOrEqual(1);
    // the parent alone, as the OOM killer would: a shard left running appends to the file a rerun resumes
    parent.kill('SIGKILL');
    await done;
    const alive = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    });
    const tk = Date.now();
    while (alive().length && Date.now() - tk < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toEqual([]);
    expect(lines(shard).length).toBeLessThan(problems.length);
  }, 120_000);
});

describe('PPM-rK = weight average of the PPMs trained in rounds 1..K', () => {
  it('round 2\'s PPM is the mean of PPM-r1 and PPM-r2 as trained; a lost average is made again on resume, nothing retrained', async () => {
    const out = path.join(root, 'average');
    fs.cpSync(base, out, { recursive: true });
    const override: Partial<Preset> = { ...OVERRIDE, rounds: [{ rollouts: 2, mode: 'terminal' }, { rollouts: 2, mode: 'terminal' }] };
    const first = await finish(spawnRun(out, 2, override));
    expect(first.code, first.stderr).toBe(0);
    const r = (k: number, f: string) => path.join(out, `round-${k}`, f);
    // round 1: the average of one PPM is that PPM
    expect(fs.readFileSync(r(1, 'ppm/weights.bin')).equals(fs.readFileSync(r(1, 'ppm-trained/weights.bin')))).toBe(true);
    const a = readTensorFile(r(1, 'ppm-trained'), 'weights');
    const b = readTensorFile(r(2, 'ppm-trained'), 'weights');
    const avg = readTensorFile(r(2, 'ppm'), 'weights');
    let maxErr = 0;
    let fromB = 0;
    for (const [name, { data }] of avg) {
      for (let i = 0; i < data.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(data[i]! - (a.get(name)!.data[i]! + b.get(name)!.data[i]!) / 2));
        if (data[i] !== b.get(name)!.data[i]) fromB++;
      }
    }
    expect(maxErr).toBeLessThan(1e-6);
    // PPM-r2 as trained is not PPM-r1 (its backbone is policy-r2), so the mean is a third model
    expect(fromB).toBeGreaterThan(1000);
    expect(JSON.parse(fs.readFileSync(r(2, 'ppm/config.json'), 'utf8')).meta.averageOf).toEqual([r(1, 'ppm-trained'), r(2, 'ppm-trained')]);
    expect(JSON.parse(fs.readFileSync(r(2, 'ppm-summary.json'), 'utf8')).averageOf).toBe(2);

    // killed after PPM-r2's training, before its average was in place: the rerun averages again
    const avgBytes = fs.readFileSync(r(2, 'ppm/weights.bin'));
    const trainedAt = fs.statSync(r(2, 'ppm-trained/weights.bin')).mtimeMs;
    fs.rmSync(r(2, 'ppm'), { recursive: true });
    fs.rmSync(r(2, 'metrics.json'));
    const second = await finish(spawnRun(out, 2, override));
    expect(second.code, second.stderr).toBe(0);
    expect(fs.statSync(r(2, 'ppm-trained/weights.bin')).mtimeMs).toBe(trainedAt);
    expect(fs.readFileSync(r(2, 'ppm/weights.bin')).equals(avgBytes)).toBe(true);
    expect(fs.existsSync(r(2, 'ppm-average'))).toBe(false);
  }, 240_000);

  it('ppmAverage false: PPM-rK is what round K trained, no ppm-trained folder; seedPairs join its training, dev problems\' dropped', async () => {
    const out = path.join(root, 'no-average');
    fs.cpSync(base, out, { recursive: true });
    // earlier pairs: 30 of the committed ones, and one more whose problem is a dev problem
    const earlier = readPairs(path.join(REPO, 'checkpoints/pairs-default.arrow')).slice(0, 30);
    const devId = splitDev(loadDataset('mawps')).dev[0]!.id;
    const seedFile = path.join(root, 'seed-pairs.arrow');
    await writePairs(seedFile, [...earlier, { ...earlier[0]!, problemId: devId, prefix: `${earlier[0]!.prefix}// dev\n` }]);
    const res = await finish(spawnRun(out, 1, { ...OVERRIDE, ppmAverage: false, seedPairs: [seedFile] }));
    expect(res.code, res.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'round-1', 'ppm', 'config.json'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'round-1', 'ppm-trained'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'ppm', 'config.json'), 'utf8')).meta.averageOf).toBeUndefined();
    const own = readPairs(path.join(out, 'round-1', 'pairs.arrow'));
    const s = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'ppm-summary.json'), 'utf8'));
    expect(s.mctsTrainPairs + s.heldOutMctsPairs).toBe(dedupePairs([...earlier, ...own]).length);
  }, 120_000);
});

describe('policies trained side by side (preset.policies)', () => {
  it('round 0 trains a second policy with its own seed, round K fine-tunes each from its own, MCTS proposes with both; a lost member is retrained alone', async () => {
    const out = path.join(root, 'two-policies');
    fs.cpSync(base, out, { recursive: true });
    const override: Partial<Preset> = { ...OVERRIDE, policies: 2 };
    const first = await finish(spawnRun(out, 1, override));
    expect(first.code, first.stderr).toBe(0);
    const r = (k: number, f: string) => path.join(out, `round-${k}`, f);
    const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
    // round 0: the hand-built policy-r0 is kept, member 1 is trained from scratch with its own seed
    expect(json(r(0, 'policy/config.json')).meta.handBuilt).toBe(true);
    expect(json(r(0, 'policy-m1/config.json')).meta.member).toBe(1);
    expect(json(r(0, 'policy-m1/config.json')).model.seed).toBe(SEED + 1000);
    // with policy-r0's prompt style (the hand-built one predates named numbers), which MCTS prompts use
    expect(json(r(0, 'policy-m1/config.json')).meta.promptNumbers).toBe('values');
    // round 1 searches with both round-0 policies; MCTS on dev with both round-1 policies, greedy with policy-r1 alone
    const job = json(r(1, 'search/shard-0.job.json'));
    expect([job.policy, ...job.members]).toEqual([r(0, 'policy'), r(0, 'policy-m1')]);
    expect(json(r(1, 'eval-mcts/shard-0.job.json')).members).toEqual([r(1, 'policy-m1')]);
    expect(json(r(1, 'eval-greedy/shard-0.job.json')).members).toEqual([]);
    // each member fine-tuned from its own weights (the initialisation seed travels in the config)
    expect(json(r(1, 'policy-m1/config.json')).meta).toMatchObject({ round: 1, member: 1 });
    expect(json(r(1, 'policy-m1/config.json')).model.seed).toBe(SEED + 1000);
    expect(json(r(1, 'policy/config.json')).model.seed).toBe(json(r(0, 'policy/config.json')).model.seed);
    const m1 = fs.readFileSync(r(1, 'policy-m1/weights.bin'));
    expect(m1.equals(fs.readFileSync(r(0, 'policy-m1/weights.bin')))).toBe(false);

    // killed after policy-r1 was trained, before member 1 was: the rerun trains member 1 alone, the same bytes
    const policyAt = fs.statSync(r(1, 'policy/weights.bin')).mtimeMs;
    for (const f of ['policy-m1', 'sft-train-m1', 'metrics.json']) fs.rmSync(r(1, f), { recursive: true });
    const second = await finish(spawnRun(out, 1, override));
    expect(second.code, second.stderr).toBe(0);
    expect(fs.statSync(r(1, 'policy/weights.bin')).mtimeMs).toBe(policyAt);
    expect(fs.readFileSync(r(1, 'policy-m1/weights.bin')).equals(m1)).toBe(true);
  }, 240_000);
});

describe('policy-r0 as a member, PPM seeds averaged (preset.r0Member, preset.ppmSeeds)', () => {
  it('round 2 searches with policy-r1 and policy-r0; PPM-rK is the mean of its seeds\' PPMs; ship copies policy-r0 as policy-m1 and drops stale members', async () => {
    const out = path.join(root, 'r0-member');
    fs.cpSync(base, out, { recursive: true });
    const ship = path.join(root, 'r0-member-ship');
    fs.mkdirSync(path.join(ship, 'policy-m2'), { recursive: true });
    const override: Partial<Preset> = { ...OVERRIDE, ppmAverage: false, r0Member: true, ppmSeeds: 2, rounds: [{ rollouts: 2, mode: 'terminal' }, { rollouts: 2, mode: 'terminal' }] };
    const res = await finish(spawnRun(out, 2, override, ship));
    expect(res.code, res.stderr).toBe(0);
    const r = (k: number, f: string) => path.join(out, `round-${k}`, f);
    const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
    // round 1 searches with policy-r0 alone (it is the policy); round 2 with policy-r1 and policy-r0
    expect(json(r(1, 'search/shard-0.job.json')).members).toEqual([]);
    expect(json(r(2, 'search/shard-0.job.json')).members).toEqual([r(0, 'policy')]);
    expect(json(r(2, 'eval-mcts/shard-0.job.json')).members).toEqual([r(0, 'policy')]);
    // no member is trained: round 2 has one SFT
    expect(fs.existsSync(r(2, 'policy-m1'))).toBe(false);
    // PPM-r2: two trainings with their own seeds, and ppm/ their weight average
    const seeds = [SEED + 2, SEED + 2 + 1000];
    expect(json(r(2, 'ppm/config.json')).meta.seeds).toEqual(seeds);
    const w = [r(2, 'ppm-train/last'), r(2, 'ppm-train-1/last')].map((d) => readTensorFile(d, 'weights'));
    const avg = readTensorFile(r(2, 'ppm'), 'weights');
    const name = [...avg.keys()].find((n) => n.includes('head'))!;
    const [a, b] = w.map((t) => t.get(name)!.data);
    expect(Array.from(a!)).not.toEqual(Array.from(b!));
    avg.get(name)!.data.forEach((x, i) => expect(x).toBeCloseTo((a![i]! + b![i]!) / 2, 6));
    const s = json(r(2, 'ppm-summary.json'));
    expect(s.seedAverage.seeds).toEqual(seeds);
    expect(s.finalAccuracy).toBe(s.seedAverage.averageAccuracy);
    // shipped: policy-r2, policy-r0 as member 1, no stale member 2
    expect(fs.readFileSync(path.join(ship, 'policy/weights.bin')).equals(fs.readFileSync(r(2, 'policy/weights.bin')))).toBe(true);
    expect(fs.readFileSync(path.join(ship, 'policy-m1/weights.bin')).equals(fs.readFileSync(r(0, 'policy/weights.bin')))).toBe(true);
    expect(fs.existsSync(path.join(ship, 'policy-m2'))).toBe(false);
  }, 240_000);
});

describe('training problems with distractors', () => {
  it('adds a seeded share of variants to the training problems, none to dev; dev variants for the robustness column', () => {
    const none = loadProblemsFor({ datasets: ['mawps'], distractors: 0, seed: SEED });
    const half = loadProblemsFor({ datasets: ['mawps'], distractors: 0.5, seed: SEED });
    expect(none.synthetic).toEqual([]);
    expect(half.train.slice(0, none.train.length)).toEqual(none.train);
    const added = half.train.slice(none.train.length);
    expect(added).toEqual(half.synthetic);
    expect(added.length / none.train.length).toBeGreaterThan(0.4);
    expect(added.length / none.train.length).toBeLessThan(0.55);
    const trainIds = new Set(none.train.map((p) => p.id));
    for (const p of added) {
      expect(trainIds.has(p.id.replace(/-d$/, ''))).toBe(true);
      expect(p.id.endsWith('-d')).toBe(true);
    }
    expect(half.dev).toEqual(none.dev);
    // a variant of (nearly) every dev problem, with exactly one number more and the same answer
    expect(half.devDistractor.length).toBeGreaterThan(0.9 * half.dev.length);
    const devById = new Map(half.dev.map((p) => [p.id, p]));
    for (const p of half.devDistractor) {
      const d = devById.get(p.id.replace(/-d$/, ''))!;
      expect(p.answer).toBe(d.answer);
      expect(questionNumbers(p.question).length).toBe(questionNumbers(d.question).length + 1);
    }
    expect(loadProblemsFor({ datasets: ['mawps'], distractors: 0.5, seed: SEED })).toEqual(half);
    expect(loadProblemsFor({ datasets: ['mawps'], distractors: 0.5, seed: SEED + 1 }).synthetic.map((p) => p.id)).not.toEqual(half.synthetic.map((p) => p.id));
  });

  it('round 0 bootstraps the variants with the training problems, verified like them', async () => {
    const { synthetic } = loadProblemsFor({ datasets: ['mawps'], distractors: 0.5, seed: SEED });
    const dir = path.join(root, 'boot-synth');
    const boot = await bootstrapSplits({ dir, datasets: ['mawps'], quiet: true, extraTrain: synthetic.slice(0, 30) });
    const ids = new Set(boot.train.map((t) => t.problemId));
    const kept = synthetic.slice(0, 30).filter((p) => ids.has(p.id));
    expect(kept.length).toBeGreaterThanOrEqual(28);
    for (const p of kept) expect(ids.has(p.id.replace(/-d$/, ''))).toBe(true);
    expect(boot.dev.some((t) => t.problemId.endsWith('-d'))).toBe(false);
    // cached: a second call reads the same files
    expect((await bootstrapSplits({ dir, datasets: ['mawps'], quiet: true })).train.length).toBe(boot.train.length);
  });

  it('a variant shares its original\'s cross-fit fold and PPM held-out side', () => {
    const { synthetic } = loadProblemsFor({ datasets: ['mawps'], distractors: 0.5, seed: SEED });
    for (const p of synthetic) expect(foldOf(p.id, SEED)).toBe(foldOf(p.id.replace(/-d$/, ''), SEED));
    const pair = (problemId: string) => ({ problemId, question: '', prefix: '', positive: 'a', negative: 'b', qPos: 1, qNeg: -1, round: 1 });
    const pairs = synthetic.flatMap((p) => [pair(p.id), pair(p.id.replace(/-d$/, ''))]);
    const { dev } = splitPairs(pairs);
    expect(dev.length).toBeGreaterThan(0);
    const held = new Set(dev.map((p) => p.problemId));
    for (const p of synthetic) expect(held.has(p.id)).toBe(held.has(p.id.replace(/-d$/, '')));
  });
});

describe('round-0 pretraining', () => {
  it('pretrains on the other datasets\' training splits only, and policy-r0 starts from it; resuming does not pretrain again', async () => {
    // round 0 only, in a child on wasm (this file's cpu backend would take minutes to train)
    const run = async (out: string, pretrain: Preset['pretrain']) => {
      const script = `
        import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
        import { selfEvolve } from ${JSON.stringify(SELF_EVOLVE)};
        await setupBackend('wasm');
        await selfEvolve({ out: ${JSON.stringify(out)}, rounds: 0, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true, override: { pretrain: ${JSON.stringify(pretrain)} } });`;
      const r = await finish(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(r.code, r.stderr).toBe(0);
    };
    const withPt = path.join(root, 'pretrain-on');
    const without = path.join(root, 'pretrain-off');
    await run(withPt, { datasets: ['gsm8k'], steps: 2 });
    await run(without, null);
    expect(fs.existsSync(path.join(without, 'round-0', 'pretrain'))).toBe(false);
    const pt = readTrajectories(path.join(withPt, 'round-0', 'pretrain', 'bootstrap-train.arrow'));
    expect(pt.length).toBeGreaterThan(1000);
    expect(new Set(pt.map((t) => t.source))).toEqual(new Set(['gsm8k']));
    // never a dev problem: the pretraining set is GSM8K's training split
    const gsmDev = new Set(splitDev(loadDataset('gsm8k')).dev.map((p) => p.id));
    expect(pt.filter((t) => gsmDev.has(t.problemId))).toEqual([]);
    const cfg = JSON.parse(fs.readFileSync(path.join(withPt, 'round-0', 'pretrain', 'policy', 'config.json'), 'utf8'));
    expect(cfg.meta.pretrain).toEqual(['gsm8k']);
    // policy-r0's SFT starts from the pretrained weights: its step-0 dev loss is not the fresh model's
    const step0 = (dir: string) => JSON.parse(lines(path.join(dir, 'round-0', 'sft-train', 'metrics.jsonl'))[0]!).metric as number;
    expect(step0(withPt)).not.toBeCloseTo(step0(without), 3);
    const mtime = fs.statSync(path.join(withPt, 'round-0', 'pretrain', 'policy', 'config.json')).mtimeMs;
    await run(withPt, { datasets: ['gsm8k'], steps: 2 });
    expect(fs.statSync(path.join(withPt, 'round-0', 'pretrain', 'policy', 'config.json')).mtimeMs).toBe(mtime);
  }, 240_000);
});

describe('cross-fitted pairs', () => {
  it('folds split the training problems about evenly, fixed by the seed', () => {
    const ids = splitDev(loadDataset('mawps')).train.map((p) => p.id);
    const zero = ids.filter((id) => foldOf(id, SEED) === 0).length;
    expect(zero / ids.length).toBeGreaterThan(0.45);
    expect(zero / ids.length).toBeLessThan(0.55);
    expect(ids.map((id) => foldOf(id, SEED))).toEqual(ids.map((id) => foldOf(id, SEED)));
    expect(ids.filter((id) => foldOf(id, SEED) !== foldOf(id, SEED + 1)).length).toBeGreaterThan(ids.length / 4);
  });

  it('each fold\'s policy searches only the other fold\'s problems; every problem once; pairs.arrow ends the stage', async () => {
    const dir = path.join(root, 'cross-fit');
    // the hand-built policy stands in for both half-data policies (their SFT is then skipped)
    for (const f of [0, 1]) fs.cpSync(path.join(base, 'round-0', 'policy'), path.join(dir, `fold-${f}`, 'policy'), { recursive: true });
    const problems = searchedProblems(SEED, 8);
    expect(new Set(problems.map((p) => foldOf(p.id, SEED))).size).toBe(2);
    const preset = { ...PRESETS.tiny, ...OVERRIDE };
    const o = { seed: SEED, backend: 'wasm', workers: 1, quiet: true };
    const noSft = () => { throw new Error('fold policies exist: no SFT expected'); };
    const pairs = await crossFitPairs({ dir, crossFit: { sftSteps: 1, rollouts: 4 }, bootTrain: [], bootDev: [], problems, sft: noSft, search: preset, ...o });
    const searched = (f: number) => lines(path.join(dir, `search-${f}`, 'shard-0.jsonl')).map((l) => JSON.parse(l) as SearchLine);
    for (const f of [0, 1]) for (const l of searched(f)) expect(foldOf(l.problemId, SEED), l.problemId).toBe(1 - f);
    const ids = [...searched(0), ...searched(1)].map((l) => l.problemId).sort();
    expect(ids).toEqual(problems.map((p) => p.id).sort());
    const fromShards = [...searched(0), ...searched(1)].flatMap((l) => l.pairs);
    expect(fromShards.length).toBeGreaterThan(0);
    expect(pairs).toEqual(fromShards);
    expect(readPairs(path.join(dir, 'pairs.arrow'))).toEqual(pairs);
    // done: a second call reads pairs.arrow and searches nothing (the shards are gone)
    for (const f of [0, 1]) fs.rmSync(path.join(dir, `search-${f}`), { recursive: true });
    expect(await crossFitPairs({ dir, crossFit: { sftSteps: 1, rollouts: 4 }, bootTrain: [], bootDev: [], problems, sft: noSft, search: preset, ...o })).toEqual(pairs);
    expect(fs.existsSync(path.join(dir, 'search-0'))).toBe(false);
  }, 120_000);
});

describe('roundsTable', () => {
  it('a column per dev source once a run reports on more than one', () => {
    const row: RoundMetrics = {
      round: 1, problemsSearched: 10, solved: 5, trainCoverage: 0.5, sftTrajectories: 8, pairs: 3, devGreedy: 0.5, devMcts: 0.6, devN: 20, wallSeconds: 60,
      devBySource: {
        mawps: { n: 10, greedy: 0.7, mcts: 0.8, onlyMcts: 2, onlyGreedy: 1, p: 1 },
        'deepmind-interpolate': { n: 10, greedy: 0.3, mcts: 0.4, onlyMcts: 1, onlyGreedy: 0, p: 1 },
      },
    };
    const t = roundsTable([row]);
    expect(t).toContain('| mawps dev: greedy → MCTS + PPM (McNemar p) | deepmind-interpolate dev: greedy → MCTS + PPM (McNemar p) |');
    expect(t).toContain('| 70.0% → 80.0% (1.0) | 30.0% → 40.0% (1.0) |');
    const [head, rule, body] = t.split('\n');
    expect(rule!.split('|').length).toBe(head!.split('|').length);
    expect(body!.split('|').length).toBe(head!.split('|').length);
    // one source: the overall columns say it all
    expect(roundsTable([{ ...row, devBySource: { mawps: row.devBySource!.mawps! } }])).not.toContain('dev: greedy →');
  });
});

describe('pairedCounts', () => {
  it('counts the problems right under only one of the two evaluations, on the problems both scored', () => {
    const g = new Map([['a', true], ['b', true], ['c', false], ['d', false], ['e', true], ['f', false]]);
    const m = new Map([['a', true], ['b', false], ['c', true], ['d', true], ['e', true]]); // f unscored
    expect(pairedCounts(g, m)).toEqual({ onlyMcts: 2, onlyGreedy: 1, p: mcnemarExact(2, 1) });
  });
});

describe('the chance-hit check (preset.chanceCheck)', () => {
  it("round 1's search job carries each problem's reference program and the variant count; the summary counts chance hits", async () => {
    const out = path.join(root, 'chance');
    fs.cpSync(base, out, { recursive: true });
    // the searched problems' reference programs join the fixture's bootstrap
    const bootFile = path.join(out, 'round-0', 'bootstrap-train.arrow');
    const refs = searchedProblems(SEED, SEARCH).flatMap((p) => {
      const steps = convertProblem(p);
      return steps ? [{ problemId: p.id, question: p.question, steps: steps.map((x, i) => serializeStep(x, i === steps.length - 1)), q: steps.map(() => 1), visits: steps.map(() => 1), correct: true, finalAnswer: p.answer, round: 0, source: 'mawps' }] : [];
    });
    await writeTrajectories(bootFile, [...readTrajectories(bootFile), ...refs]);
    const res = await finish(spawnRun(out, 1, { ...OVERRIDE, chanceCheck: 2 }));
    expect(res.code, res.stderr).toBe(0);
    const job = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'search', 'shard-0.job.json'), 'utf8')) as ShardJob;
    expect(job.variants).toBe(2);
    const boot = new Map(readTrajectories(path.join(out, 'round-0', 'bootstrap-train.arrow')).map((t) => [t.problemId, t]));
    expect(job.problems).toHaveLength(SEARCH);
    for (const p of job.problems) expect(p.reference).toEqual(boot.get(p.id)?.steps.map((x) => parseStep(x)!.code));
    expect(job.problems.filter((p) => p.reference)).toHaveLength(refs.length);
    expect(refs.length).toBeGreaterThan(0);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'search-summary.json'), 'utf8'));
    const searchLines = lines(path.join(out, 'round-1', 'search', 'shard-0.jsonl')).map((l) => JSON.parse(l) as SearchLine);
    expect(summary.chanceHits).toBe(searchLines.reduce((a, l) => a + l.chanceHits!, 0));
    // the hand-built policy prints digits whatever the question says: an answer it gets is a chance hit
    expect(summary.chanceHits).toBeGreaterThan(0);
  }, 180_000);
});

describe('a fresh draw of training problems every round (preset.freshDraw)', () => {
  it('round 2 searches the next problems of the seeded order and of the schema stream, none round 1 searched; dev accuracy per source in the metrics', async () => {
    const out = path.join(root, 'fresh');
    fs.cpSync(base, out, { recursive: true });
    const res = await finish(spawnRun(out, 2, { ...OVERRIDE, freshDraw: true, schemas: { round0: 0, perRound: 2 } }));
    expect(res.code, res.stderr).toBe(0);
    const searched = (k: number) => lines(path.join(out, `round-${k}`, 'search', 'shard-0.jsonl')).map((l) => (JSON.parse(l) as SearchLine).problemId);
    const schema = (ids: string[]) => ids.filter((id) => id.startsWith('synth-'));
    const r1 = searched(1).filter((id) => !id.startsWith('synth-'));
    const r2 = searched(2).filter((id) => !id.startsWith('synth-'));
    expect(r1).toHaveLength(SEARCH);
    expect(r2).toHaveLength(SEARCH);
    expect(r2.filter((id) => r1.includes(id))).toEqual([]);
    // schema problems too: round 2 draws the next ones of the stream
    const dev = splitDev(loadDataset('mawps')).dev;
    expect(schema(searched(1)).sort()).toEqual(schemaBatch({ start: 0, count: 2, seed: SEED, dev }).map((p) => p.id).sort());
    expect(schema(searched(2)).sort()).toEqual(schemaBatch({ start: 2, count: 2, seed: SEED, dev }).map((p) => p.id).sort());
    // round 1 is what a run without fresh draws searches every round
    expect(new Set(r1)).toEqual(new Set(searchedProblems(SEED, SEARCH).map((p) => p.id)));
    const m = JSON.parse(fs.readFileSync(path.join(out, 'round-2', 'metrics.json'), 'utf8'));
    expect(Object.keys(m.devBySource)).toEqual(['mawps']);
    expect(m.devBySource.mawps.n).toBe(1);
    expect(m.devBySource.mawps.greedy).toBe(m.devGreedy);
    expect(m.devBySource.mawps.mcts).toBe(m.devMcts);
  }, 180_000);
});

describe('--sft0-steps 0 --policy P', () => {
  it('policy-r0 is P as it is: no round-0 SFT', async () => {
    const out = path.join(root, 'no-sft0');
    const given = path.join(base, 'round-0', 'policy');
    const script = `
      import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
      import { selfEvolve } from ${JSON.stringify(SELF_EVOLVE)};
      await setupBackend('wasm');
      await selfEvolve({ out: ${JSON.stringify(out)}, rounds: 0, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true, policy: ${JSON.stringify(given)}, override: { sft0Steps: 0 } });`;
    const res = await finish(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' } }));
    expect(res.code, res.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'round-0', 'sft-train'))).toBe(false);
    expect(readTensorFile(path.join(out, 'round-0', 'policy'), 'weights')).toEqual(readTensorFile(given, 'weights'));
  }, 120_000);
});

describe('preset.start: the models a run starts from when no --policy is given', () => {
  const runZero = (out: string, extra: string) => finish(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
      import { selfEvolve } from ${JSON.stringify(SELF_EVOLVE)};
      await setupBackend('wasm');
      await selfEvolve({ out: ${JSON.stringify(out)}, rounds: 0, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true, ${extra} });`],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' } }));

  it('policy-r0 is the preset\'s policy and PPM-r1 continues its PPM; a given --policy replaces both', async () => {
    const given = path.join(base, 'round-0', 'policy');
    const start = { policy: given, ppm: path.join(base, 'no-such-ppm') };
    const out = path.join(root, 'start');
    const res = await runZero(out, `override: { sft0Steps: 0, start: ${JSON.stringify(start)} }`);
    expect(res.code, res.stderr).toBe(0);
    expect(readTensorFile(path.join(out, 'round-0', 'policy'), 'weights')).toEqual(readTensorFile(given, 'weights'));
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'))).toMatchObject({ policy: given, ppm: start.ppm });
    // the caller's policy wins, and the preset's PPM (of another backbone) does not come with it
    const out2 = path.join(root, 'start-given');
    const res2 = await runZero(out2, `policy: ${JSON.stringify(given)}, override: { sft0Steps: 0, start: ${JSON.stringify({ ...start, policy: '/nowhere' })} }`);
    expect(res2.code, res2.stderr).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(out2, 'run.json'), 'utf8'));
    expect(cfg.policy).toBe(given);
    expect(cfg.ppm).toBeUndefined();
  }, 120_000);
});

describe('schema problems every round (preset.schemas)', () => {
  it('round K searches perRound schema problems beside the training problems, none near a dev problem; metrics count them and the solved ones', async () => {
    const out = path.join(root, 'schemas');
    fs.cpSync(base, out, { recursive: true });
    const sftMix = { mawps: 1, 'mawps-synth': 3 };
    const res = await finish(spawnRun(out, 1, { ...OVERRIDE, schemas: { round0: 3, perRound: 4 }, sftMix }));
    expect(res.code, res.stderr).toBe(0);
    // the round's SFT set went through the mix (shares: test/sft.test.ts); here its MCTS and bootstrap
    // trajectories are all MAWPS-family ones without synth (a tiny policy keeps no schema problem), so
    // mawps holds everything and every problem stays
    const m = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'sft-mix.json'), 'utf8'));
    expect(m.mix).toEqual(sftMix);
    expect(Object.keys(m.charShare.after).sort()).toEqual(Object.keys(m.charShare.before).sort());
    expect(m.trajectories.after).toBeGreaterThanOrEqual(m.trajectories.before);
    const dev = splitDev(loadDataset('mawps')).dev;
    // round 1 draws problems 3..6 of the run's stream (0..2 joined the training problems)
    const fresh = schemaBatch({ start: 3, count: 4, seed: SEED, dev });
    expect(fresh.length).toBeGreaterThan(0);
    expect(dropSimilar(fresh, dev)).toEqual(fresh);
    const searched = lines(path.join(out, 'round-1', 'search', 'shard-0.jsonl')).map((l) => JSON.parse(l) as SearchLine);
    const ids = searched.map((l) => l.problemId);
    for (const p of fresh) expect(ids).toContain(p.id);
    expect(ids.length).toBe(SEARCH + fresh.length);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'search-summary.json'), 'utf8'));
    const solvedFresh = searched.filter((l) => l.solved && fresh.some((p) => p.id === l.problemId)).length;
    expect(summary.synthesis).toEqual({ added: fresh.length, kept: solvedFresh });
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'round-1', 'metrics.json'), 'utf8'));
    expect(metrics.synthesis).toEqual(summary.synthesis);
    expect(metrics.problemsSearched).toBe(SEARCH + fresh.length);
    expect(fs.readFileSync(path.join(out, 'rounds.md'), 'utf8')).toContain(`| ${fresh.length} / ${solvedFresh} |`);
  }, 120_000);

  it('searchProblems 0: a round searches only its schema problems, the same ones every round without freshDraw; no distractor dev evaluation without distractor training', async () => {
    const out = path.join(root, 'schemas-only');
    fs.cpSync(base, out, { recursive: true });
    const res = await finish(spawnRun(out, 2, { ...OVERRIDE, searchProblems: 0, schemas: { round0: 0, perRound: 4 } }));
    expect(res.code, res.stderr).toBe(0);
    const batch = schemaBatch({ start: 0, count: 4, seed: SEED, dev: splitDev(loadDataset('mawps')).dev });
    for (const k of [1, 2]) {
      const ids = lines(path.join(out, `round-${k}`, 'search', 'shard-0.jsonl')).map((l) => (JSON.parse(l) as SearchLine).problemId);
      expect(ids.sort()).toEqual(batch.map((p) => p.id).sort());
      const metrics = JSON.parse(fs.readFileSync(path.join(out, `round-${k}`, 'metrics.json'), 'utf8'));
      expect(metrics.problemsSearched).toBe(batch.length);
      expect(metrics.devGreedyDistractor).toBeNull();
    }
    expect(fs.existsSync(path.join(out, 'round-1', 'eval-greedy-distractor'))).toBe(false);
  }, 180_000);

  it('a grouped run: bootstrap, search and dev come from the grouped split, and a per-source quota draws fresh problems each round', async () => {
    const out = path.join(root, 'grouped');
    const res = await finish(spawnRun(out, 2, { ...OVERRIDE, devSet: 'grouped', searchProblems: { mawps: 3, '*': 0 }, freshDraw: true, distractors: 0, crossFit: null }));
    expect(res.code, res.stderr).toBe(0);
    const { train, dev } = splitOf('mawps', true);
    const trainIds = new Set(train.map((p) => p.id));
    const devIds = new Set(dev.map((p) => p.id));
    const boot = readTrajectories(path.join(out, 'round-0', 'bootstrap-train.arrow'));
    expect(boot.length).toBeGreaterThan(2000);
    expect(boot.every((t) => trainIds.has(t.problemId))).toBe(true);
    expect(readTrajectories(path.join(out, 'round-0', 'bootstrap-dev.arrow')).every((t) => devIds.has(t.problemId))).toBe(true);
    const searched = [1, 2].map((k) => lines(path.join(out, `round-${k}`, 'search', 'shard-0.jsonl')).map((l) => (JSON.parse(l) as SearchLine).problemId));
    for (const ids of searched) {
      expect(ids).toHaveLength(3);
      expect(ids.every((id) => trainIds.has(id))).toBe(true);
    }
    expect(searched[0]!.some((id) => searched[1]!.includes(id))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'rounds.md'), 'utf8')).toContain('grouped: no training problem with masked-word Jaccard ≥ 0.5');
  }, 240_000);

  it('loadProblemsFor adds the first schema problems of the stream to the training problems, none near dev', () => {
    const { train, synthetic, dev } = loadProblemsFor({ datasets: ['mawps'], seed: SEED, schemas: 50 });
    const schema = synthetic.filter((p) => p.id.startsWith('synth-'));
    expect(schema.length).toBeGreaterThan(40);
    expect(schema).toEqual(schemaBatch({ start: 0, count: 50, seed: SEED, dev }));
    for (const p of schema) expect(train).toContain(p);
    expect(dropSimilar(schema, dev)).toHaveLength(schema.length);
    // the next batch shares no problem with this one
    const next = new Set(schemaBatch({ start: 50, count: 50, seed: SEED, dev }).map((p) => p.id));
    expect(schema.some((p) => next.has(p.id))).toBe(false);
  });
});

describe('bootstrap trajectories a round keeps (preset.bootstrapLimit, --bootstrap-per-source)', () => {
  const row = (source: string, problemId: string, k: number): TrajectoryRow => ({
    problemId, question: problemId, steps: [`// ${k}`], q: [1], visits: [1], correct: true, finalAnswer: '1', round: 0, source,
  });
  // deepmind: 10 problems of 2 trajectories each; mawps: 3 problems of one
  const rows = [
    ...Array.from({ length: 20 }, (_, i) => row('deepmind', `dm/${i >> 1}`, i)),
    ...Array.from({ length: 3 }, (_, i) => row('mawps', `mw/${i}`, i)),
  ];

  it('a number keeps the first N of each source; 0 keeps all', () => {
    expect(bootstrapKept(rows, 0, 1)).toEqual(rows);
    const kept = bootstrapKept(rows, 2, 1);
    expect(kept.map((r) => r.steps[0])).toEqual(['// 0', '// 1', '// 0', '// 1']);
  });

  it('per source: a seeded choice of whole problems, the other sources untouched', () => {
    const a = bootstrapKept(rows, { deepmind: 3, '*': 'all' }, 7);
    const dm = a.filter((r) => r.source === 'deepmind');
    expect(new Set(dm.map((r) => r.problemId)).size).toBe(3);
    expect(dm.length).toBe(6); // both trajectories of each problem kept
    expect(a.filter((r) => r.source === 'mawps')).toHaveLength(3);
    expect(bootstrapKept(rows, { deepmind: 3, '*': 'all' }, 7)).toEqual(a); // repeatable
    const other = bootstrapKept(rows, { deepmind: 3, '*': 'all' }, 8).filter((r) => r.source === 'deepmind');
    expect(other.map((r) => r.problemId)).not.toEqual(dm.map((r) => r.problemId)); // not simply the first three
    expect(bootstrapKept(rows, { '*': 1 }, 7).map((r) => r.source)).toEqual(['deepmind', 'deepmind', 'mawps']);
  });
});
