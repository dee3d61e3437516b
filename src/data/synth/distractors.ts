// Synthesised training problems: a training problem with an irrelevant quantity added.
//
// Why: in MAWPS/ASDiv-A nearly every number of a question is used (2,528 of 2,824 training problems),
// so a policy learns "a solution uses every number, n0 first". One irrelevant sentence added to each
// dev problem took a round-0 policy from 67 % greedy to 11 % (round 4: 74 % → 12 %); trained with half
// the training problems also present with a distractor, policy-r0 kept 66 % on plain dev and got 45 %
// with one added (README). rStar-Math synthesises new problems each round with a large LLM; with
// none here, this is the variation we can make with a known answer: the reference equation is
// unchanged, so the problem stays verified.
//
// A distractor is a declarative sentence with exactly one number taken from another training problem
// whose number occurs neither in the question nor in the reference (whose literals are masked as
// names by their written form). Preferred, SVAMP's hard case: someone else holding the asked-for
// thing ("Kimberly has 12 eggs." before "… How many eggs will Bruce have?"), placed first, when the
// question names whose count it asks for and does not aggregate. Otherwise a sentence about something
// else, right before the asking sentence when that has no pronoun (a new subject there would capture
// "he"/"she"), else at the start.
import type { Problem } from '../datasets.ts';
import { askedNoun, contentWords, sentencesOf } from '../text.ts';
import { questionNumbers } from '../steps.ts';
import { hash32 } from '../../util/rng.ts';

const PRONOUN = /^(he|she|they|it|his|her|their|its|them|him|we|i|you|this|that|these|those|then|so|also|each|if|after|now)\b/i;
const PRONOUN_ANY = /\b(he|she|they|it|his|her|their|its|them|him)\b/i;
/** Id suffix of a synthesised variant (baseProblemId strips it). */
const VARIANT = '-d';

interface Donor {
  from: string;
  text: string;
  number: string;
  /** Stemmed content words. */
  words: string[];
  /** The person it is about, when it opens with a name and a verb of having ("Kimberly has …"). */
  owner?: string;
}

/** Sentences other problems can lend: one number, not a question, not leaning on earlier sentences. */
export function donorSentences(problems: readonly Problem[]): Donor[] {
  const out: Donor[] = [];
  for (const p of problems) {
    for (const s of sentencesOf(p.question)) {
      const nums = questionNumbers(s);
      if (nums.length !== 1 || !/\.\s*$/.test(s) || /\?/.test(s) || PRONOUN.test(s)) continue;
      if (/\b(how|what|find|each|every|per|total|times|more|less|left|rest)\b/i.test(s)) continue;
      // a statement with its own subject: not an instruction ("Convert 0.176 …") or a clause ("by the end …")
      if (/^(convert|write|round|calculate|solve|express|simplify|estimate|give|use|show|by|in|on|at|for|with|to|of|from|during|while|when|because|and|but|or|as|since|until|before|once)\b/i.test(s)) continue;
      const words = s.split(/\s+/).length;
      if (words < 4 || words > 14) continue;
      const owner = /^([A-Z][a-z]+) (?:has|had|have|bought|buys|picked|found|grew|ate|made|baked|collected|got|gets|owns|saw|caught|read|sold|received|gave|planted)\b/.exec(s)?.[1];
      out.push({ from: p.id, text: s, number: nums[0]!.text.replace(/,/g, ''), words: contentWords(s).map(stem), ...(owner && !/^(There|The|This|That|It|A|An)$/.test(owner) ? { owner } : {}) });
    }
  }
  return out;
}

const stem = (w: string): string => w.replace(/(ies|es|s)$/, '');

/**
 * The problem with one distractor sentence added, or null when no donor fits. Deterministic in
 * (problem id, seed); the id gets a `-d` suffix and the source `-distractor`.
 */
export function withDistractor(p: Problem, donors: readonly Donor[], seed: number): Problem | null {
  if (!p.solution || !donors.length) return null;
  const sentences = sentencesOf(p.question);
  if (sentences.length < 2) return null;
  // neither a number of the question nor a constant of the reference (a week's 7): the masking of the
  // reference matches literals to question numbers by their written form
  const have = new Set([...questionNumbers(p.question).map((n) => n.text.replace(/,/g, '')), ...(p.solution.match(/\d+(?:\.\d+)?/g) ?? [])]);
  const own = new Set(contentWords(p.question).map(stem));
  const asked = askedNoun(p.question);
  const start = hash32(p.id, seed) % donors.length;
  const pick = (ok: (d: Donor, i: number) => boolean): Donor | undefined => {
    for (let i = 0; i < Math.min(2 * donors.length, 400); i++) {
      const d = donors[(start + i * 7919) % donors.length]!;
      if (d.from !== p.id && !have.has(d.number) && ok(d, i)) return d;
    }
    return undefined;
  };
  const variant = (question: string): Problem => ({ ...p, id: `${p.id}${VARIANT}`, question, source: `${p.source}-distractor` });
  const last = sentences.length - 1;
  // Related (SVAMP's hard case): someone else holding the asked-for thing ("Kimberly has 12 eggs."
  // before "… How many eggs will Bruce have?"). Only when the question names whose count it asks for
  // and does not aggregate (a total would include the newcomer); placed first so that every pronoun
  // of the question keeps its antecedent.
  const owner = /\b(?:does|did|will|is|was|do)\s+([A-Z][a-z]+)\b/.exec(sentences[last]!)?.[1];
  const aggregate = /\b(total|all|altogether|together|combined|both|they|their|them|each|everyone|we)\b/i.test(sentences[last]!);
  if (asked && owner && !aggregate) {
    const names = new Set(p.question.match(/\b[A-Z][a-z]+\b/g) ?? []);
    const d = pick((d) => d.owner !== undefined && !names.has(d.owner) && d.words.includes(stem(asked)));
    if (d) return variant([d.text, ...sentences].join(' '));
  }
  // Unrelated: about something else than what is asked (a sentence about the asked noun could count),
  // sharing some other word with the question on every other try so that it must be read
  const d = pick((d, i) => !(asked && d.words.includes(stem(asked))) && (i % 2 === 1 || d.words.some((w) => own.has(w))));
  if (d) {
    const at = PRONOUN_ANY.test(sentences[last]!) ? 0 : last;
    return variant([...sentences.slice(0, at), d.text, ...sentences.slice(at)].join(' '));
  }
  return null;
}

/** The problem a synthesised one was made from (itself for an original): folds and held-out splits group by it. */
export function baseProblemId(id: string): string {
  return id.endsWith(VARIANT) ? id.slice(0, -VARIANT.length) : id;
}

/** One distractor variant for a seeded `frac` of the problems that have a reference solution. */
export function synthesizeDistractors(problems: readonly Problem[], frac: number, seed: number, donors = donorSentences(problems)): Problem[] {
  const out: Problem[] = [];
  for (const p of problems) {
    if (hash32(`synth:${p.id}`, seed) / 2 ** 32 >= frac) continue;
    const s = withDistractor(p, donors, seed);
    if (s) out.push(s);
  }
  return out;
}
