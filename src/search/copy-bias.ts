// Copy bias: a logits hook that favours tokens which keep a string literal or a `//` comment a verbatim
// copy of the question (as the prompt shows it, numbers named n0, n1, ...).
//
// Why: a DeepMind step hands the prelude a piece of the question (`fn("j", "-n0*j**n1 - n2", E)`,
// `probSequence("hnlllllhlhnn", "nhl")`) after a comment that quotes the sentence; 98 % of the bootstrap's
// literals are substrings of the question. The small policy's errors on the weakest modules are mostly
// bad copies (`h(g)` for `w(g)`, `c*v(v)` for `c*t(v)`, a letter soup of the wrong letters). Pointer
// networks copy through an attention distribution; here, once a literal or comment holds a copy of at
// least MIN_COPY characters, every token that continues it inside the question's words and expressions
// gets +beta on its logit. Soft, and never at a boundary, so what the policy writes itself stays its own
// (README: "Copy bias" has the measurements behind each rule).
import type { LogitsHook } from '../model/generate.ts';
import type { TokenizerLike } from '../model/load.ts';
import { MARKERS } from '../data/steps.ts';

type Mode = 'code' | 'slash' | 'comment' | 'string' | 'skip';

/** What a generated row is inside of, fed one token's text at a time. */
export class CopyLexer {
  mode: Mode = 'code';
  /** What ends the current literal, comment or skipped span. */
  private end = '';
  private escaped = false;
  private skipSpace = false;
  /** The literal's or comment's text so far (a comment's without its `//` and first space). */
  text = '';
  /** A byte piece or an escape made the text unreliable: no bias until the literal / comment ends. */
  unknown = false;

  feed(s: string | null): void {
    if (s === null) this.unknown = true;
    else for (const ch of s) this.char(ch);
  }

  private char(ch: string): void {
    switch (this.mode) {
      case 'code':
        if (ch === '"' || ch === "'") this.open('string', ch);
        else if (ch === '`') this.open('skip', '`');
        else if (ch === '/') this.mode = 'slash';
        return;
      case 'slash':
        // `//` a comment, `/*` a block comment (skipped to its closing '/'), else division
        if (ch === '/') this.open('comment', '\n');
        else if (ch === '*') this.open('skip', '/');
        else {
          this.mode = 'code';
          this.char(ch);
        }
        return;
      case 'skip':
        if (ch === this.end) this.mode = 'code';
        return;
      case 'comment':
        if (ch === '\n') this.mode = 'code';
        else if (this.skipSpace && ch === ' ') this.skipSpace = false;
        else {
          this.skipSpace = false;
          this.text += ch;
        }
        return;
      case 'string':
        if (this.escaped) {
          this.escaped = false;
          this.unknown = true;
        } else if (ch === '\\') this.escaped = true;
        else if (ch === this.end || ch === '\n') this.mode = 'code';
        else this.text += ch;
        return;
    }
  }

  private open(mode: Mode, end: string): void {
    this.mode = mode;
    this.end = end;
    this.text = '';
    this.unknown = false;
    this.escaped = false;
    this.skipSpace = mode === 'comment';
  }

  /** The character that ends the current literal / comment (null in code). */
  get terminator(): string | null {
    return this.mode === 'string' || this.mode === 'comment' ? this.end : null;
  }
}

/** Each token's text as it reads mid-sequence (null for byte pieces and control symbols). */
function pieceTexts(tok: TokenizerLike): (string | null)[] {
  // decoding [anchor, id] and cutting the anchor keeps a word piece's leading space
  const anchor = tok.encode('x');
  const a = tok.decode(anchor);
  const out: (string | null)[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    let s: string;
    try {
      s = tok.decode([...anchor, id]);
    } catch {
      out.push(null);
      continue;
    }
    const t = s.startsWith(a) ? s.slice(a.length) : null;
    out.push(t === null || t === '' || t.includes('\ufffd') || MARKERS.includes(t.trim()) ? null : t);
  }
  return out;
}

interface TokenIndex {
  texts: (string | null)[];
  /** Token ids by their text's first character. */
  byFirst: Map<string, number[]>;
}

const INDEX = new WeakMap<TokenizerLike, TokenIndex>();

export function copyIndex(tok: TokenizerLike): TokenIndex {
  let ix = INDEX.get(tok);
  if (!ix) {
    const texts = pieceTexts(tok);
    const byFirst = new Map<string, number[]>();
    texts.forEach((t, id) => {
      if (t === null) return;
      const c = t[0]!;
      let l = byFirst.get(c);
      if (!l) byFirst.set(c, (l = []));
      l.push(id);
    });
    ix = { texts, byFirst };
    INDEX.set(tok, ix);
  }
  return ix;
}

// Where the question's text has a boundary (a space or sentence punctuation) the policy chooses
// freely: a copy may end there or turn into its own words (`"... - n4 - (n5)"` for `... - n4 = n5`,
// `// minutes after midnight` for `minutes after 12:39`). The bias works inside the question's words
// and expressions, where a copy error is a wrong letter (`o(h(g))`, `n1` for `n11`, a letter soup) or a
// dropped bracket.
const BOUNDARY = /[\s.,?!;:]/;
/** Copies shorter than this get no bias (`"-" + n0` is the policy's own). */
const MIN_COPY = 2;
const atBoundary = (q: string, e: number): boolean => e >= q.length || BOUNDARY.test(q[e]!);

/**
 * Token ids that continue `copied` as a copy of `question` at a place that is no boundary, or null
 * when there is none: `copied` too short, no longer a copy, or at a boundary everywhere it occurs.
 * Where a copy starts is the policy's choice too (`"j"` of `w(j)`, `"n0*h"` would be as much a copy).
 */
export function copyContinuations(ix: TokenIndex, question: string, copied: string, terminator: string): number[] | null {
  if (copied.length < MIN_COPY) return null;
  const ok = new Set<number>();
  for (let i = question.indexOf(copied); i >= 0; i = question.indexOf(copied, i + 1)) {
    const e = i + copied.length;
    if (atBoundary(question, e)) continue;
    for (const id of ix.byFirst.get(question[e]!) ?? []) {
      const t = ix.texts[id]!;
      // a token that also ends the copy must end it at a boundary
      const cut = t.indexOf(terminator);
      if (cut < 0 ? question.startsWith(t, e) : question.startsWith(t.slice(0, cut), e) && atBoundary(question, e + cut)) ok.add(id);
    }
  }
  return ok.size ? [...ok] : null;
}

/**
 * A logits hook for rows whose prompts hold `questions` (row r decodes prompt `promptOf(r)`): +beta on
 * the tokens that continue a copy. Rows start in code (a solution or a step begins with its comment).
 */
export function copyBiasHook(tok: TokenizerLike, questions: readonly string[], beta: number): LogitsHook | undefined {
  if (!(beta > 0)) return undefined;
  const ix = copyIndex(tok);
  const lexers = new Map<number, { lex: CopyLexer; fed: number }>();
  return (row, prompt, tokens, logits, off) => {
    let st = lexers.get(row);
    if (!st) lexers.set(row, (st = { lex: new CopyLexer(), fed: 0 }));
    for (; st.fed < tokens.length; st.fed++) st.lex.feed(ix.texts[tokens[st.fed]!] ?? null);
    const lex = st.lex;
    const end = lex.terminator;
    if (end === null || lex.unknown) return;
    const ids = copyContinuations(ix, questions[prompt] ?? '', lex.text, end);
    if (!ids) return;
    for (const id of ids) logits[off + id] += beta;
  };
}
