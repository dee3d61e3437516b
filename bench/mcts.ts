// MCTS throughput: problems/s, nodes expanded/s, generated tokens/s, with one search process per core
// (the way self-evolve searches). Policy: a checkpoint (--policy, default the shipped one) or, with
// --random, a random config-S GPT (its steps are mostly garbage, so trees end early).
//   npm run bench -- mcts [--policy DIR] [--problems 64] [--rollouts 8] [--k 4] [--workers 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, splitDev } from '../src/data/datasets.ts';
import { runSharded, readShardLines, type SearchLine, type ShardJob } from '../src/train/shards.ts';
import { GPT, GPT_PRESETS } from '../src/model/gpt.ts';
import { saveCheckpoint } from '../src/model/checkpoint.ts';
import { DEFAULT_MODEL, Tokenizer } from '../src/model/tokenizer.ts';
import { setupBackend } from '../src/model/backends/backend.ts';

function flag(argv: string[], name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}

/** --policy (default the shipped one), or a random config-S GPT written into `dir` (--random, or none shipped). */
export async function benchPolicy(argv: string[], dir: string): Promise<string> {
  const policy = flag(argv, 'policy', 'checkpoints/policy');
  if (!argv.includes('--random') && fs.existsSync(path.join(policy, 'config.json'))) {
    console.log(`policy: ${policy}`);
    return policy;
  }
  const tok = await Tokenizer.load();
  const lm = new GPT({ ...GPT_PRESETS.S, vocabSize: tok.vocabSize, blockSize: 256 });
  const random = path.join(dir, 'random-policy');
  await saveCheckpoint(random, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
  lm.dispose();
  console.log('policy: random config-S GPT (vocab of our tokenizer, context 256)');
  return random;
}

/** The first n MAWPS training problems, as search jobs take them. */
export function benchProblems(n: number): ShardJob['problems'] {
  return splitDev(loadDataset('mawps')).train.slice(0, n).map((p) => ({ id: p.id, question: p.question, answer: p.answer, source: p.source }));
}

export async function main(argv: string[]): Promise<void> {
  const backend = flag(argv, 'backend', 'wasm');
  await setupBackend(backend as 'wasm');
  const n = Number(flag(argv, 'problems', '64'));
  const workers = Number(flag(argv, 'workers', '2'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-bench-mcts-'));
  const policy = await benchPolicy(argv, dir);
  const problems = benchProblems(n);
  const t0 = Date.now();
  const files = await runSharded({
    dir, job: { kind: 'search', policy, seed: 1, round: 1, search: { rollouts: Number(flag(argv, 'rollouts', '8')), k: Number(flag(argv, 'k', '4')), maxDepth: 8, mode: 'terminal' } },
    problems, workers, label: 'bench mcts', backend, quiet: true,
  });
  const secs = (Date.now() - t0) / 1000;
  const lines = files.flatMap((f) => readShardLines<SearchLine>(f));
  const tokens = lines.reduce((a, l) => a + (l.generatedTokens ?? 0), 0);
  const expanded = lines.reduce((a, l) => a + (l.expanded ?? 0), 0);
  const res = {
    bench: 'mcts', workers, problems: lines.length, seconds: +secs.toFixed(1),
    problems_per_s: +(lines.length / secs).toFixed(2), nodes_expanded_per_s: +(expanded / secs).toFixed(1),
    generated_tok_s: Math.round(tokens / secs), solved: lines.filter((l) => l.solved).length,
  };
  console.log(`${res.problems} problems in ${res.seconds}s (process start included): ${res.problems_per_s} problems/s, ${res.nodes_expanded_per_s} expansions/s, ${res.generated_tok_s} generated tok/s`);
  console.log(`RESULT ${JSON.stringify(res)}`);
  fs.rmSync(dir, { recursive: true, force: true });
}
