// Word-level text helpers shared by the bootstrap converters and problem synthesis.
import { MARKERS } from './steps.ts';

/** Words that cannot be identifiers (JavaScript's, and the sandbox's globals). */
export const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false ' +
    'finally for function if import in instanceof new null return super switch this throw true try ' +
    'typeof var void while with yield let static implements interface package private protected public ' +
    'await arguments eval undefined nan infinity print math number string object array boolean date ' +
    'json console symbol map set error promise globalthis constructor prototype'
  ).split(' '),
);

const STOP = new Set(
  (
    'a an the of in on at to for from by with and or but is are was were be been being it its this that ' +
    'these those he she they we you i his her their our your my him them us me there here then than so ' +
    'as if each every all altogether now more less also has have had do does did will would ' +
    'can could should which what who whom how many much after before into out up down over per about ' +
    'one two three four five six seven eight nine ten half twice times same other another some any ' +
    'just only still very not no yes an rest during while when where why'
  ).split(' '),
);

/** Content words of a text: lowercase alphabetic words that make a sensible name. */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [])
    .map((w) => w.replace(/'s$/, '').replace(/'/g, ''))
    .filter((w) => w.length >= 2 && !STOP.has(w) && !RESERVED.has(w));
}


/** Comments stay on one line and never contain a marker. */
export function tidy(text: string): string {
  let t = text.replace(/\s+/g, ' ');
  for (const m of MARKERS) t = t.split(m).join(' ');
  return t
    .replace(/\s+([.,;:?!])/g, '$1')
    .replace(/\s+'s\b/g, "'s")
    .replace(/\s+/g, ' ')
    .trim();
}

export const numbersIn = (text: string): number[] =>
  (text.replace(/(\d),(?=\d{3}\b)/g, '$1').match(/\d+(?:\.\d+)?|\.\d+/g) ?? []).map(Number);


/** Sentences, then clauses, of a question. */
export function sentencesOf(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<!\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc)\.)(?<=[.?!])\s+(?=\S)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What the question asks for: `how many books …` → books. */
export function askedNoun(question: string): string | undefined {
  const m = /how (?:many|much)\s+((?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+)/i.exec(question);
  if (!m) return undefined;
  return contentWords(m[1]!)[0];
}
