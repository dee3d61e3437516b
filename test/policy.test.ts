import type { PromptNumbers } from '../src/data/steps.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT } from '../src/model/gpt.ts';
import { saveCheckpoint } from '../src/model/checkpoint.ts';
import { DEFAULT_MODEL, Tokenizer } from '../src/model/tokenizer.ts';
import { EnsembleProposer, PolicyProposer, policyProposer } from '../src/search/policy.ts';
import { loadPolicies } from '../src/model/load.ts';
import { hash32 } from '../src/util/rng.ts';
import type { ProposeRequest, StepProposer } from '../src/search/mcts.ts';

beforeAll(async () => {
  await setupBackend('cpu');
});

/** A member that records its requests and answers `name:j` for its j-th candidate. */
class Recorder implements StepProposer {
  seen: ProposeRequest[][] = [];
  constructor(readonly name: string) {}
  async propose(reqs: ProposeRequest[]): Promise<string[][]> {
    this.seen.push(reqs);
    return reqs.map((r) => Array.from({ length: r.k }, (_, j) => `${this.name}:${r.prefix}:${j}`));
  }
}

describe('EnsembleProposer', () => {
  it('splits each expansion\'s k among the policies, member 0 with the request\'s seed, the others with their own', async () => {
    const a = new Recorder('a');
    const b = new Recorder('b');
    const ens = new EnsembleProposer([a, b]);
    const out = await ens.propose([{ prefix: 'p', k: 5, seed: 42 }, { prefix: 'q', k: 1, seed: 7 }, { prefix: 'r', k: 4 }]);
    // 5 → 3 + 2; 1 → 1 + 0 (member b is not asked); 4 → 2 + 2
    expect(a.seen[0]!.map((r) => [r.prefix, r.k, r.seed])).toEqual([['p', 3, 42], ['q', 1, 7], ['r', 2, undefined]]);
    expect(b.seen[0]!.map((r) => [r.prefix, r.k, r.seed])).toEqual([['p', 2, hash32('member1', 42)], ['r', 2, undefined]]);
    expect(out).toEqual([
      ['a:p:0', 'a:p:1', 'a:p:2', 'b:p:0', 'b:p:1'],
      ['a:q:0'],
      ['a:r:0', 'a:r:1', 'b:r:0', 'b:r:1'],
    ]);
  });

  it('one policy is a plain PolicyProposer; two real policies give candidates from both', async () => {
    const tok = await Tokenizer.load();
    const cfg = { vocabSize: tok.vocabSize, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16 };
    const lm0 = new GPT({ ...cfg, seed: 1 });
    const lm1 = new GPT({ ...cfg, seed: 2 });
    const opts = { seed: 5, maxStepTokens: 6 };
    expect(policyProposer([lm0], tok, opts)).toBeInstanceOf(PolicyProposer);
    const req = [{ prefix: '<question>Tom has 3 apples.<solution>', k: 4, seed: 11 }];
    const alone0 = await new PolicyProposer(lm0, tok, opts).propose([{ ...req[0]!, k: 2 }]);
    const alone1 = await new PolicyProposer(lm1, tok, opts).propose([{ ...req[0]!, k: 2, seed: hash32('member1', 11) }]);
    const ens = policyProposer([lm0, lm1], tok, opts) as EnsembleProposer;
    const both = await ens.propose(req);
    // what each member alone would have proposed, in member order (untrained models rarely end a
    // step within 6 tokens, so also count the tokens each decoded: 2 rows of 6)
    expect(both).toEqual([[...alone0[0]!, ...alone1[0]!]]);
    expect(ens.members.map((m) => (m as PolicyProposer).generatedTokens)).toEqual([12, 12]);
    lm0.dispose();
    lm1.dispose();
  });
});

describe('PolicyProposer step budget', () => {
  it('a prefix longer than context − maxStepTokens still gets candidates, each bounded by what its own prefix leaves', async () => {
    const tok = await Tokenizer.load();
    const lm = new GPT({ vocabSize: tok.vocabSize, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, seed: 3 });
    const long = '<question>Tom has 3 apples and 4 pears and 5 plums and 6 figs and 7 kiwis and 8 limes.<solution>';
    const n = tok.encode(long).length;
    expect(n).toBeGreaterThan(64 - 40);
    expect(n).toBeLessThan(64 - 8);
    const p = new PolicyProposer(lm, tok, { seed: 1, maxStepTokens: 40 });
    await p.propose([{ prefix: long, k: 2, seed: 4 }]);
    // untrained: no row stops early, so each decodes exactly its budget, 64 - n + 1 (< 40)
    expect(p.generatedTokens).toBe(2 * (64 - n + 1));
    // a short prefix beside it keeps its own budget of 40
    const q = new PolicyProposer(lm, tok, { seed: 1, maxStepTokens: 40 });
    await q.propose([{ prefix: long, k: 2, seed: 4 }, { prefix: '<question>Hi.<solution>', k: 2, seed: 5 }]);
    expect(q.generatedTokens).toBe(2 * (64 - n + 1) + 2 * 40);
    lm.dispose();
  });
});

describe('loadPolicies', () => {
  it('loads comma-separated policies; one of another prompt style is refused with one line naming it', async () => {
    const tok = await Tokenizer.load();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-policies-'));
    const save = async (name: string, seed: number, promptNumbers: PromptNumbers) => {
      const lm = new GPT({ vocabSize: tok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, seed });
      await saveCheckpoint(path.join(dir, name), lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers });
      lm.dispose();
      return path.join(dir, name);
    };
    const a = await save('a', 1, 'names');
    const b = await save('b', 2, 'names');
    const c = await save('c', 3, 'values');
    const ok = await loadPolicies(`${a}, ${b}`);
    expect(ok.members).toHaveLength(1);
    expect(ok.pol.promptNumbers).toBe('names');
    ok.pol.lm.dispose();
    ok.members.forEach((m) => m.dispose());
    await expect(loadPolicies(`${a},${c}`)).rejects.toThrow(new RegExp(`^${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not the tokenizer and prompt style`));
    await expect(loadPolicies(' , ')).rejects.toThrow('--policy is empty');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
