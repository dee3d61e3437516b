import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/model/tokenizer.ts';
import { CopyLexer, copyBiasHook, copyContinuations, copyIndex } from '../src/search/copy-bias.ts';
import { promptFor, promptQuestion } from '../src/data/steps.ts';

let tok: Tokenizer;
beforeAll(async () => {
  tok = await Tokenizer.load();
});

function lex(text: string): CopyLexer {
  const l = new CopyLexer();
  l.feed(text);
  return l;
}

const Q = 'Let w(j) = -n0*j**n1 - n2. Let o(u) be the third derivative of -u**n3/n4. What is o(w(g))?';

describe('CopyLexer', () => {
  it('knows when it is inside a string or a comment, and what it holds so far', () => {
    expect(lex('const a = fn("j", "-n0*j').mode).toBe('string');
    expect(lex('const a = fn("j", "-n0*j').text).toBe('-n0*j');
    expect(lex("x = P('ab").text).toBe('ab');
    expect(lex('x = "ab", y = 2').mode).toBe('code');
    expect(lex('// Let w(j) = -n0').mode).toBe('comment');
    expect(lex('// Let w(j) = -n0').text).toBe('Let w(j) = -n0');
    expect(lex('// Let w\nconst x = 1').mode).toBe('code');
    expect(lex('const x = a / b; "n0').text).toBe('n0');
    expect(lex('const t = `a "b` + "c').text).toBe('c');
    expect(lex('/* "x */ "y').text).toBe('y');
    expect(lex('x = "a\\"b').unknown).toBe(true);
    expect(lex('x = "a\\"b", "c').unknown).toBe(false);
  });
});

describe('copyContinuations', () => {
  it('offers the tokens that continue a copy of the question inside its words, and nothing at a boundary', () => {
    const ix = copyIndex(tok);
    const texts = (ids: number[] | null) => (ids ?? []).map((id) => ix.texts[id]!);
    const mid = texts(copyContinuations(ix, Q, '-n0*j', '"'));
    expect(mid.length).toBeGreaterThan(0);
    for (const t of mid) expect(Q.includes(`-n0*j${t}`)).toBe(true);
    expect(mid.some((t) => t.startsWith('"'))).toBe(false);
    expect(copyContinuations(ix, Q, '-n0*j**n1 - n2', '"')).toBeNull(); // `... - n2|.`: the policy's choice
    expect(copyContinuations(ix, Q, '-n0*j**n1', '"')).toBeNull(); // `n1| -`: a space
    expect(copyContinuations(ix, Q, '-n0*j**n2', '"')).toBeNull(); // no longer a copy
    expect(copyContinuations(ix, Q, '', '"')).toBeNull(); // where a copy starts is the policy's choice
    expect(copyContinuations(ix, Q, '-', '"')).toBeNull(); // too short to be a copy
    // a token that closes the literal too must close it at a boundary
    for (const t of texts(copyContinuations(ix, Q, 'o(w(', '"'))) {
      const cut = t.indexOf('"');
      if (cut >= 0) expect(['', ')', '))']).toContain(t.slice(0, cut).replace(/^g/, ''));
    }
  });
});

describe('copyBiasHook', () => {
  it('adds beta to the copy continuations of the row\'s own question only while a copy is under way', () => {
    const ix = copyIndex(tok);
    const other = 'Four letters picked without replacement from qiiiiqiqqqiiqqqii. What is prob of sequence qiii?';
    const hook = copyBiasHook(tok, [promptQuestion(promptFor(Q, 'names')), other], 5)!;
    const V = tok.vocabSize;
    const run = (prompt: number, row: number, text: string): number[] => {
      const logits = new Float32Array(V);
      hook(row, prompt, tok.encode(text), logits, 0);
      return [...logits.keys()].filter((i) => logits[i] === 5);
    };
    const ids = run(0, 0, 'E.w = fn("j", "-n0*j');
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(Q.includes(`-n0*j${ix.texts[id]}`)).toBe(true);
    expect(run(0, 1, 'E.w = fn("j", ')).toEqual([]); // in code: nothing
    expect(run(0, 2, '// Let w(j) = -n0*j**n2')).toEqual([]); // a comment that is no copy
    expect(run(0, 4, '// Let o(u) be the thi').length).toBeGreaterThan(0); // a comment that is one
    const soup = run(1, 3, 'const answer = probSequence("qiiiiqiq');
    expect(soup.length).toBeGreaterThan(0);
    for (const id of soup) expect(other.includes(`qiiiiqiq${ix.texts[id]}`)).toBe(true);
    expect(copyBiasHook(tok, [Q], 0)).toBeUndefined();
  });
});
