// The CLI: --help for every command, one-line errors for bad input, unknown commands.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(REPO, 'src/cli.ts');
let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-cli-'));
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rstar(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const stderrLines = (r: Run) => r.stderr.split('\n').filter((l) => l.trim() !== '');

// every command and options its help must list
const COMMANDS: Record<string, string[]> = {
  tokenizer: ['--out', '--vocab-size'],
  bootstrap: ['--out', '--datasets', '--limit'],
  'train-policy': ['--out', '--data', '--dev-data', '--init', '--steps', '--batch-tokens', '--lr', '--eval-every', '--layers', '--width', '--heads', '--context', '--dropout', '--workers', '--resume', '--backend', '--seed'],
  'train-ppm': ['--out', '--init', '--pairs', '--steps', '--batch-pairs', '--lr', '--eval-every', '--resume', '--backend', '--seed'],
  solve: ['question', '--policy', '--ppm', '--rollouts', '-k', '--max-depth', '--widen', '--backend', '--seed'],
  eval: ['--data', '--dataset', '--dev', '--mode', '--policy', '--ppm', '-n', '--runs', '--rollouts', '-k', '--max-depth', '--limit', '--check-comments', '--widen', '--out', '--trees', '--json', '--backend', '--seed'],
  'self-evolve': ['--rounds', '--out', '--preset', '--workers', '--ship', '--schemas', '--search-problems', '--dev-problems', '--ppm-seeds', '--r0-member', '--data', '--dev', '--policy', '--queue', '--backend', '--seed'],
  average: ['checkpoints', '--out'],
  worker: ['--queue'],
  serve: ['--port', '--host', '--checkpoints'],
  report: ['run', '--out', '--dev-trees', '--train-trees'],
};

describe('rstar --help', () => {
  it('lists every command', async () => {
    const r = await rstar(['--help']);
    expect(r.code).toBe(0);
    for (const c of Object.keys(COMMANDS)) expect(r.stdout, c).toMatch(new RegExp(`rstar ${c}\\b`));
    // the internal command stays hidden
    expect(r.stdout).not.toContain('search-shard');
  });

  it('works for every command and lists its options', async () => {
    const runs = await Promise.all(Object.keys(COMMANDS).map((c) => rstar([c, '--help'])));
    Object.entries(COMMANDS).forEach(([c, opts], i) => {
      const r = runs[i]!;
      expect(r.code, `${c}: ${r.stderr}`).toBe(0);
      expect(r.stdout, c).toContain(`rstar ${c}`);
      for (const o of opts) expect(r.stdout, `${c} --help should list ${o}`).toMatch(new RegExp(`(^|\\s)${o}(\\s|$)`, 'm'));
      expect(r.stderr, c).toBe('');
    });
  });
});

describe('rstar average', () => {
  it('writes the weight average: two copies of a checkpoint average to its own weights; mixed kinds fail with one line, nothing written', async () => {
    const out = path.join(root, 'avg');
    const r = await rstar(['average', 'checkpoints/ppm', 'checkpoints/ppm', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'weights.bin')).equals(fs.readFileSync(path.join(REPO, 'checkpoints/ppm/weights.bin')))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).meta.averageOf).toEqual(['checkpoints/ppm', 'checkpoints/ppm']);
    const bad = path.join(root, 'avg-bad');
    const r2 = await rstar(['average', 'checkpoints/ppm', 'checkpoints/policy', '--out', bad]);
    expect(r2.code).not.toBe(0);
    expect(stderrLines(r2)).toEqual(['rstar: checkpoints/policy/config.json: kind policy, expected ppm (as checkpoints/ppm)']);
    expect(fs.existsSync(bad)).toBe(false);
  });
});

describe('bad input', () => {
  it('eval --data with a malformed line 3: non-zero exit, one stderr line naming file:3', async () => {
    const f = path.join(root, 'problems.jsonl');
    fs.writeFileSync(f, ['{"question": "What is 2 + 2?", "answer": "4"}', '{"question": "What is 3 + 3?", "answer": 6}', '{"question": "What is 4 + 4?", "answer": }', '{"question": "x", "answer": "1"}'].join('\n') + '\n');
    const r = await rstar(['eval', '--data', f, '--backend', 'cpu']);
    expect(r.code).not.toBe(0);
    const lines = stderrLines(r);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`${f}:3:`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
  });

  it('eval --data with a line missing its answer names that line', async () => {
    const f = path.join(root, 'noanswer.jsonl');
    fs.writeFileSync(f, ['{"question": "a", "answer": "1"}', '', '{"question": "b"}'].join('\n'));
    const r = await rstar(['eval', '--data', f, '--backend', 'cpu']);
    expect(r.code).not.toBe(0);
    expect(stderrLines(r)).toEqual([expect.stringContaining(`${f}:3: expected a "answer" field`)]);
  });

  it('eval --distractor with --data: one line (it varies a dataset\'s dev problems, not a file)', async () => {
    const f = path.join(root, 'own.jsonl');
    fs.writeFileSync(f, '{"question": "What is 2 + 2?", "answer": "4"}\n');
    const r = await rstar(['eval', '--data', f, '--distractor', '--backend', 'cpu']);
    expect(r.code).not.toBe(0);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/--distractor varies a dataset's dev problems/)]);
  });

  it('train-policy --data with a bad line: one line naming file:line', async () => {
    const f = path.join(root, 'sft.jsonl');
    fs.writeFileSync(f, ['{"question": "q", "steps": ["print(1);\\n<end_of_solution>\\n"]}', '{"question": "q2", "steps": 5}'].join('\n'));
    const r = await rstar(['train-policy', '--out', path.join(root, 'tp'), '--data', f, '--backend', 'cpu', '--steps', '1']);
    expect(r.code).not.toBe(0);
    const lines = stderrLines(r);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`${f}:2:`);
  });

  it('eval with a policy folder that is not a checkpoint: one line naming its config.json', async () => {
    const f = path.join(root, 'ok.jsonl');
    fs.writeFileSync(f, '{"question": "What is 2 + 2?", "answer": "4"}\n');
    const r = await rstar(['eval', '--data', f, '--policy', path.join(root, 'nope'), '--backend', 'cpu'], { RSTAR_QUIET: '1' });
    expect(r.code).not.toBe(0);
    expect(stderrLines(r)).toEqual([expect.stringContaining(path.join(root, 'nope', 'config.json'))]);
  });

  it('an unknown command, a missing required option, or no command fails with one line', async () => {
    const [unknown, missing, none] = await Promise.all([
      rstar(['frobnicate']),
      rstar(['train-ppm', '--out', path.join(root, 'x')]),
      rstar([]),
    ]);
    expect(unknown.code).not.toBe(0);
    expect(stderrLines(unknown)).toEqual([expect.stringMatching(/frobnicate/)]);
    expect(missing.code).not.toBe(0);
    expect(stderrLines(missing)).toEqual([expect.stringMatching(/init/)]);
    expect(none.code).not.toBe(0);
    expect(stderrLines(none)).toEqual([expect.stringMatching(/command/)]);
  });

  it('self-evolve and train-policy --distractors outside [0, 1] fail with one line before anything is written', async () => {
    const out = path.join(root, 'never');
    for (const cmd of ['self-evolve', 'train-policy']) {
      const r = await rstar([cmd, '--distractors', '2', '--out', out]);
      expect(r.code).not.toBe(0);
      expect(stderrLines(r)).toEqual([expect.stringMatching(new RegExp(`${cmd}: --distractors must be in \\[0, 1\\], got 2`))]);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('train-policy --mix and self-evolve --sft-mix that are not source=weight pairs fail with one line before anything is written', async () => {
    const out = path.join(root, 'never-mix');
    const [a, b] = await Promise.all([rstar(['train-policy', '--mix', 'mawps=-1', '--out', out]), rstar(['self-evolve', '--sft-mix', 'gsm8k', '--out', out])]);
    expect(a.code).not.toBe(0);
    expect(stderrLines(a)).toEqual([expect.stringMatching(/train-policy: --mix must be source=weight pairs .*, got mawps=-1/)]);
    expect(b.code).not.toBe(0);
    expect(stderrLines(b)).toEqual([expect.stringMatching(/self-evolve: --sft-mix must be source=weight pairs .*, got gsm8k/)]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('self-evolve --search-problems / --dev-problems that are not whole numbers fail with one line before anything is written', async () => {
    const out = path.join(root, 'never-n');
    const [a, b] = await Promise.all([rstar(['self-evolve', '--search-problems', '-5', '--out', out]), rstar(['self-evolve', '--dev-problems', '2.5', '--out', out])]);
    expect(a.code).not.toBe(0);
    expect(stderrLines(a)).toEqual([expect.stringMatching(/--search-problems must be a whole number ≥ 0, all, or source=N pairs .*, got -5/)]);
    expect(b.code).not.toBe(0);
    expect(stderrLines(b)).toEqual([expect.stringMatching(/--dev-problems must be a whole number ≥ 0, got 2.5/)]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('self-evolve --pretrain with an unknown dataset or a bad step count fails with one line before anything is written', async () => {
    const out = path.join(root, 'never-pt');
    const r = await rstar(['self-evolve', '--pretrain', 'gsm8k,wikipedia', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/--pretrain expects datasets from .*gsm8k.*, got "gsm8k,wikipedia"/)]);
    // a name every object has is not a dataset either
    const proto = await rstar(['self-evolve', '--pretrain', 'toString', '--out', out]);
    expect(stderrLines(proto)).toEqual([expect.stringMatching(/--pretrain expects datasets from .*, got "toString"/)]);
    const s = await rstar(['self-evolve', '--pretrain', 'gsm8k', '--pretrain-steps', '0', '--out', out]);
    expect(stderrLines(s)).toEqual([expect.stringMatching(/--pretrain-steps must be a positive integer, got 0/)]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('an invalid choice is refused', async () => {
    const r = await rstar(['eval', '--mode', 'psychic']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/psychic/);
    expect(r.stderr).toMatch(/greedy/);
  });
});
