import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, PieceType, Tokenizer, tokenizerCorpus, trainTokenizer, USER_SYMBOLS } from '../src/model/tokenizer.ts';
import { MARK, MARKERS, promptFor, serializeSolution } from '../src/data/steps.ts';
import { DATASETS, loadDataset } from '../src/data/datasets.ts';
import { convertProblem } from '../src/data/bootstrap/index.ts';

const hasSpm = spawnSync('spm_encode', ['--help'], { stdio: 'ignore' }).error === undefined;

let tok: Tokenizer;
beforeAll(async () => {
  tok = await Tokenizer.load();
});

describe('Tokenizer (shipped model)', () => {
  it('has the configured vocabulary and control ids', () => {
    expect(tok.vocabSize).toBe(2048);
    expect([tok.unkId, tok.bosId, tok.eosId, tok.padId]).toEqual([0, 1, 2, 3]);
    expect(tok.sha256).toBe(createHash('sha256').update(fs.readFileSync(DEFAULT_MODEL)).digest('hex'));
  });

  it('encodes every marker and the newline as one user-defined id', () => {
    for (const s of USER_SYMBOLS) {
      const ids = tok.encode(s);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toBe(tok.pieceId(s));
      expect(tok.pieceType(ids[0]!)).toBe(PieceType.UserDefined);
      expect(tok.idToPiece(ids[0]!)).toBe(s);
    }
    // …also inside text, glued to words on both sides.
    const ids = tok.encode(`x${MARK.endStep}y${MARK.question}z\nw`);
    expect(ids).toContain(tok.pieceId(MARK.endStep));
    expect(ids).toContain(tok.pieceId(MARK.question));
    expect(ids).toContain(tok.pieceId('\n'));
  });

  it('splits numbers into single digits', () => {
    const pieces = tok.encodePieces('const total = 12345 + 0.75;');
    const digitPieces = pieces.filter((p) => /\d/.test(p));
    expect(digitPieces.join('')).toBe('123450' + '75');
    for (const p of digitPieces) expect(p.replace('▁', '')).toMatch(/^\d$/);
  });

  it('adds no BOS/EOS and maps the empty string to no ids', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
    const ids = tok.encode('print(x);');
    expect(ids).not.toContain(tok.bosId);
    expect(ids).not.toContain(tok.eosId);
  });

  it('round-trips whitespace, indentation, tabs, blank lines and non-ASCII exactly (byte fallback)', () => {
    const texts = [
      '  leading and trailing  ',
      'a\n\n\nb',
      'for (let i = 0; i < 3; i++) {\n    s += i;\n\t}\n',
      'Ünïcödé — 中文 😀 √2 ≤ π',
      '\n',
      ' ',
    ];
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
    // Characters outside the vocabulary become byte pieces, never <unk>.
    expect(tok.encode('😀 中文')).not.toContain(tok.unkId);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([tok.vocabSize])).toThrow(RangeError);
    expect(() => tok.idToPiece(-1)).toThrow(RangeError);
    expect(tok.pieceId('definitely-not-a-piece')).toBe(-1);
  });

  it('step boundaries are token boundaries: appending a step keeps the earlier ids', () => {
    const prompt = promptFor('Natalia sold clips to 48 of her friends in April. How many?', 'values');
    const s1 = '// Natalia sold 48/2 clips in May.\nconst may = 48 / 2;\n<end_of_step>\n';
    const s2 = '// Altogether.\nconst total = 48 + may;\nprint(total);\n<end_of_solution>\n';
    const a = tok.encode(prompt + s1);
    const ab = tok.encode(prompt + s1 + s2);
    expect(ab.slice(0, a.length)).toEqual(a);
    expect(ab.slice(a.length)).toEqual(tok.encode(s2));
    expect(tok.encode(prompt)).toEqual(a.slice(0, tok.encode(prompt).length));
  });

  it('round-trips the training questions and bootstrap trajectory texts of every dataset', () => {
    let n = 0;
    for (const name of Object.keys(DATASETS)) {
      // every line of a dataset up to 8,000 lines, every k-th line of a larger one (DeepMind's 50k-line
      // train file: every 7th, all modules)
      const all = loadDataset(name);
      const stride = Math.max(1, Math.ceil(all.length / 8000));
      for (const p of all.filter((_, i) => i % stride === 0)) {
        const steps = convertProblem(p);
        const text = promptFor(p.question, 'values') + (steps ? serializeSolution(steps) : '');
        const back = tok.decode(tok.encode(text));
        if (back !== text) expect(back).toBe(text); // expect() only on failure: 26k texts
        // The raw question too (promptFor normalises whitespace; the raw text must survive as is).
        if (tok.decode(tok.encode(p.question)) !== p.question) expect(tok.decode(tok.encode(p.question))).toBe(p.question);
        n++;
      }
    }
    expect(n).toBeGreaterThan(26000);
  }, 120_000);

  it.skipIf(!hasSpm)('gives the same ids as spm_encode on a sample of training lines', async () => {
    const lines = await tokenizerCorpus();
    // A fixed spread over the corpus: questions and trajectory lines of every dataset.
    const sample: string[] = [];
    for (let i = 0; sample.length < 200; i += Math.floor(lines.length / 200)) sample.push(lines[i]!);
    sample.push('    indented  code\twith tab', 'x = 3.14159 + 2e10', MARKERS.join(' '));
    const out = execFileSync('spm_encode', [`--model=${DEFAULT_MODEL}`, '--output_format=id'], {
      input: sample.join('\n') + '\n',
    }).toString();
    const expected = out.split('\n').slice(0, sample.length).map((l) => (l.trim() === '' ? [] : l.trim().split(' ').map(Number)));
    expect(sample.map((l) => tok.encode(l))).toEqual(expected);
  }, 60_000);
  if (!hasSpm) it('spm_encode comparison skipped: spm_encode is not installed (apt-get install sentencepiece)', () => {});
});

describe.skipIf(!hasSpm)('trainTokenizer', () => {
  it('is deterministic and writes a loadable model with the markers first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-test-'));
    try {
      const lines = (await tokenizerCorpus()).filter((_, i) => i % 20 === 0);
      const a = await trainTokenizer({ out: path.join(dir, 'a'), vocabSize: 512, lines });
      const b = await trainTokenizer({ out: path.join(dir, 'b.model'), vocabSize: 512, lines });
      expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'a.vocab'))).toBe(true);
      const t = await Tokenizer.load(a);
      expect(t.vocabSize).toBe(512);
      USER_SYMBOLS.forEach((s, i) => expect(t.pieceId(s)).toBe(4 + i));
      const text = lines.slice(0, 50).join('\n');
      expect(t.decode(t.encode(text))).toBe(text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports a missing spm_train clearly', async () => {
    await expect(trainTokenizer({ out: path.join(os.tmpdir(), 'never'), lines: ['a b'], spmTrain: 'spm_train_missing_xyz' })).rejects.toThrow(
      /spm_train not found/,
    );
  });
});
