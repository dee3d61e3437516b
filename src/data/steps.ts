// The step format: code-augmented chain of thought, one step at a time.
//
// A training/search text looks like this (markers are single SentencePiece tokens):
//
//   <question>Natalia sold clips to 48 of her friends in April, ...<solution>
//   // Natalia sold 48/2 clips in May.
//   const may = 48 / 2;
//   <end_of_step>
//   // Natalia sold 48+24 clips altogether.
//   const total = 48 + may;
//   print(total);
//   <end_of_solution>
//
// A step is one or more `// comment` lines followed by JavaScript. Every step but the last ends with
// <end_of_step>; the final step prints the answer with print(...) and ends with <end_of_solution>.
// Decoding one step therefore stops at either marker, and a step is terminal when it calls print.

export const MARK = {
  question: '<question>',
  solution: '<solution>',
  endStep: '<end_of_step>',
  endSolution: '<end_of_solution>',
} as const;

/** The markers, in the order they are declared as SentencePiece user-defined symbols. */
export const MARKERS: readonly string[] = [MARK.question, MARK.solution, MARK.endStep, MARK.endSolution];

export interface Step {
  /** Natural-language comment, one string per `//` line, without the leading `// `. */
  comment: string[];
  /** JavaScript of the step (may be several lines; no trailing newline). */
  code: string;
}

const PRINT_CALL = /(^|[^\w.$])print\s*\(/;

/** A step is terminal when its code prints: the printed value is the final answer. */
export function isTerminal(step: Step): boolean {
  return PRINT_CALL.test(stripComments(step.code));
}

/** Code without its `//` comments. */
export function stripComments(code: string): string {
  return code.replace(/\/\/.*$/gm, '');
}

// ---- The question's numbers as named quantities --------------------------------------------------
// A small from-scratch policy is bad at copying multi-digit numbers token by token, so the prompt tags
// every number of the question with a name (`Bryan has n0=56 books in each of his n1=9 shelves`) and
// the sandbox defines those names before the steps run (`const n0 = 56, n1 = 9;`). Steps then say
// `const books = n0 * n1;`: the policy picks quantities instead of spelling them. (The calibration
// model in the self-evolve issue masks numbers the same way.)

export interface QuestionNumber {
  name: string;
  /** As written in the question (commas included). */
  text: string;
  value: number;
}

// A decimal glued to its unit (`233.68113ms`, DeepMind's conversions) is one number; an integer glued to
// letters (`5th`, `1a3` in base 16) is none.
const QNUM = /(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+(?=[A-Za-z])|(\.\d+)?(?![\w]))/g;

/** The numbers of a question in reading order, named n0, n1, … */
export function questionNumbers(question: string): QuestionNumber[] {
  // a base numeral's digits are not numbers (tagQuestion names it first)
  const q = normaliseQuestion(question).replace(QBASE, 'b');
  const out: QuestionNumber[] = [];
  for (const m of q.matchAll(QNUM)) {
    const text = m[0];
    out.push({ name: `n${out.length}`, text, value: Number(text.replace(/,/g, '')) });
  }
  return out;
}

/** The question (normalised) with its numbers, in questionNumbers' order, written as `values`; null when
 *  their count differs or the question names letter bags or base numerals (digits that are not numbers). */
export function withNumbers(question: string, values: readonly number[]): string | null {
  const q = normaliseQuestion(question);
  if (questionBags(q).length || questionBaseNumerals(q).length) return null;
  let i = 0;
  const out = q.replace(QNUM, (m) => (i < values.length ? String(values[i++]) : m));
  return i === values.length && questionNumbers(out).length === values.length ? out : null;
}

/**
 * How the prompt shows the question's numbers: 'values' tags each with its name and value (`n0=56`),
 * 'names' shows the name only (`n0`; the values live only in the sandbox's prelude). A policy keeps the
 * style it was trained with (checkpoint meta `promptNumbers`; checkpoints without it used 'values').
 * New policies use 'names': round-0 SFT, all else equal, 68.5 % vs 60.8 % greedy dev (README).
 */
export type PromptNumbers = 'values' | 'names';
export const PROMPT_NUMBERS_NEW: PromptNumbers = 'names';

export function isPromptNumbers(x: unknown): x is PromptNumbers {
  return x === 'values' || x === 'names';
}

// Letter bags (DeepMind's probability questions: `picked without replacement from hnlllllhlhnnhhlhhhl.`)
// are named like numbers, w0, w1, …: a string of random letters is the hardest thing to copy (greedy
// solved 5 of 50 `swr_p_sequence` dev problems, most wrong ones starting or ending the copy elsewhere).
// The phrase and the sentence end after the bag keep English (`from the box`) out.
const QBAG = /(?<=\bwithout replacement from )[a-z]{3,}(?=[.?!,;]|$)/g;

/** What `re` finds in a question, in reading order, named prefix0, prefix1, … (the sandbox defines them as strings). */
function namedStrings(question: string, re: RegExp, prefix: string): { name: string; text: string }[] {
  return [...normaliseQuestion(question).matchAll(re)].map((m, i) => ({ name: `${prefix}${i}`, text: m[0] }));
}

/** The letter bags of a question in reading order, named w0, w1, … */
export function questionBags(question: string): { name: string; text: string }[] {
  return namedStrings(question, QBAG, 'w');
}

// Numerals of another base (`In base 16, what is -1ede + 613?`, `Convert -a606 (base 12) to base 3.`) are
// named b0, b1, …, sign included, every one, digits only or not: their digits are the letter soup a bag
// is, a numeral named sometimes as a number (613) and sometimes not (1ede) is two things to learn, and
// a sign outside the name is one more thing to carry into the code.
const QBASE = /(?<=^In base \d+, what is )-?[0-9a-z]+(?= [-+] -?[0-9a-z]+\?$)|(?<=^In base \d+, what is -?[0-9a-z]+ [-+] )-?[0-9a-z]+(?=\?$)|(?<![\w.-])-?[0-9a-z]+(?= \(base \d+\))/g;

/** The numerals of another base in a question, in reading order, named b0, b1, … */
export function questionBaseNumerals(question: string): { name: string; text: string }[] {
  return namedStrings(question, QBASE, 'b');
}

/** The question with each number tagged by its name (`n0`) or name and value (`n0=56`), each letter
 * bag by its name (`w0`), each numeral of another base by its name (`b0`). */
export function tagQuestion(question: string, numbers: PromptNumbers): string {
  let i = 0, j = 0, k = 0;
  return normaliseQuestion(question)
    .replace(QBAG, () => `w${j++}`)
    .replace(QBASE, () => `b${k++}`)
    .replace(QNUM, (m) => (numbers === 'values' ? `n${i++}=${m}` : `n${i++}`));
}

/** Code the sandbox runs before the steps: the question's numbers and letter bags as constants ('' if none). */
export function numberPrelude(question: string): string {
  const defs = [
    ...questionNumbers(question).map((n) => `${n.name} = ${numberLiteral(n.text)}`),
    ...[...questionBags(question), ...questionBaseNumerals(question)].map((b) => `${b.name} = ${JSON.stringify(b.text)}`),
  ];
  return defs.length ? `const ${defs.join(', ')};` : '';
}

/** A number as JS: a float when that is exact to its last written digit (up to 15 significant
 * digits), else a BigInt (integers) or its decimal text (which the exact-maths prelude reads: Q(n0)). */
function numberLiteral(text: string): string {
  const t = text.replace(/,/g, '');
  if (t.replace(/^[0.]+/, '').replace('.', '').length <= 15) return String(Number(t));
  return t.includes('.') ? JSON.stringify(t) : `${BigInt(t)}n`;
}

/** What the sandbox runs for a trajectory: the prelude (if any), then the steps' code. */
export function programOf(question: string, codes: string[]): string[] {
  const pre = numberPrelude(question);
  return pre ? [pre, ...codes] : codes;
}

/**
 * Rewrite numeric literals that are numbers of the question as their names (code and comment), so
 * reference solutions read like what the policy should write. A literal matches the first question
 * number with the same written form (ignoring commas).
 */
export function maskNumbers(step: Step, nums: QuestionNumber[]): Step {
  if (!nums.length) return step;
  const byText = new Map<string, string>();
  for (const n of nums) {
    const key = n.text.replace(/,/g, '');
    if (!byText.has(key)) byText.set(key, n.name);
  }
  const sub = (s: string) => s.replace(/(?<![\w.$])(\d+(?:,\d{3})*(?:\.\d+)?)(?![\w.]\d|\w)/g, (m) => byText.get(m.replace(/,/g, '')) ?? m);
  return { comment: step.comment.map(sub), code: sub(step.code) };
}

/** The prompt the policy continues: question (numbers tagged), then the start of the solution. */
export function promptFor(question: string, numbers: PromptNumbers): string {
  return `${MARK.question}${tagQuestion(question, numbers)}${MARK.solution}\n`;
}

/** The question as a prompt (or a prompt + steps) shows it: the text between the question and solution
 * markers ('' without them). */
export function promptQuestion(text: string): string {
  const a = text.indexOf(MARK.question);
  const b = text.indexOf(MARK.solution, a + 1);
  return a >= 0 && b > a ? text.slice(a + MARK.question.length, b) : '';
}

/** Questions are kept on one line so a marker can never appear inside them. */
export function normaliseQuestion(question: string): string {
  let q = question;
  for (const m of MARKERS) q = q.split(m).join(' ');
  return q.replace(/\s+/g, ' ').trim();
}

/** One step as text, including its end marker. */
export function serializeStep(step: Step, terminal = isTerminal(step)): string {
  const comment = step.comment.map((c) => `// ${c.replace(/\s+/g, ' ').trim()}`.trimEnd()).join('\n');
  const body = comment ? `${comment}\n${step.code}` : step.code;
  return `${body}\n${terminal ? MARK.endSolution : MARK.endStep}\n`;
}

/** The whole solution text (without the prompt). */
export function serializeSolution(steps: Step[]): string {
  return steps.map((s, i) => serializeStep(s, i === steps.length - 1 ? true : false)).join('');
}

/** Prompt + solution: what SFT trains on. */
export function serializeTrajectory(question: string, steps: Step[], numbers: PromptNumbers): string {
  return promptFor(question, numbers) + serializeSolution(steps);
}

/**
 * Parse the text of one step (what the policy wrote up to and including an end marker, or without one).
 * Leading `//` lines are the comment; the rest is code. Returns null when there is no code.
 */
export function parseStep(text: string): Step | null {
  let t = text;
  for (const m of [MARK.endSolution, MARK.endStep]) {
    const at = t.indexOf(m);
    if (at >= 0) t = t.slice(0, at);
  }
  const lines = t.replace(/\r/g, '').split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  const comment: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^\s*\/\/ ?(.*)$/.exec(lines[i]!);
    if (!m) break;
    comment.push(m[1]!.trimEnd());
  }
  const code = lines.slice(i).join('\n');
  if (code.trim() === '') return null;
  return { comment, code };
}

/** Split a solution text into steps at the end markers. Stops after <end_of_solution>. */
export function parseSolution(text: string): { steps: Step[]; complete: boolean } {
  const steps: Step[] = [];
  let rest = text;
  for (;;) {
    const e = rest.indexOf(MARK.endStep);
    const f = rest.indexOf(MARK.endSolution);
    if (e < 0 && f < 0) {
      const tail = parseStep(rest);
      if (tail) steps.push(tail);
      return { steps, complete: false };
    }
    const isEnd = f >= 0 && (e < 0 || f < e);
    const cut = isEnd ? f : e;
    const step = parseStep(rest.slice(0, cut));
    if (step) steps.push(step);
    if (isEnd) return { steps, complete: true };
    rest = rest.slice(cut + MARK.endStep.length);
  }
}

/** The code of steps 1..k, as the sandbox runs it cumulatively. */
export function codeOf(steps: Step[]): string[] {
  return steps.map((s) => s.code);
}

// ------------------------------------------------------------------------------------------------
// Comment ↔ code agreement. The bootstrap writes each arithmetic step as one operation phrase over
// two operands ("Subtract n1 from n0." over `const r1 = n0 - n1;`). A small policy often writes the
// right phrase over the wrong code or the reverse (measured on the names run's cross-fit trees: 53 %
// of wrong trajectories had such a step, 18 % of correct ones, mostly lucky: `n2 + n2` equal to
// `n1 + n2`). The sandbox cannot see it; this check can, for steps written in that grammar only.

/** Binary operators of reference equations (bootstrap.ts parses them). */
export type BinOp = '+' | '-' | '*' | '/' | '%' | '**';

/** The bootstrap's comment for `l op r`: the one place its operation grammar is written. */
export function opPhrase(op: BinOp, l: string, r: string): string {
  switch (op) {
    case '+':
      return `Add ${l} and ${r}.`;
    case '-':
      return `Subtract ${r} from ${l}.`;
    case '*':
      return `Multiply ${l} by ${r}.`;
    case '/':
      return `Divide ${l} by ${r}.`;
    case '%':
      return `Take ${l} modulo ${r}.`;
    case '**':
      return `Raise ${l} to the power ${r}.`;
  }
}

const OPERAND = String.raw`([A-Za-z_$][\w$]*|\d+(?:\.\d+)?)`;
const PHRASE = new RegExp(String.raw`^(Add|Subtract|Multiply|Divide) ${OPERAND} (and|from|by) ${OPERAND}\.$`);
const BINARY = new RegExp(String.raw`^const ([A-Za-z_$][\w$]*) = ${OPERAND} ([-+*/]) ${OPERAND};$`);

/** The operation phrase of a step's one-line comment in the bootstrap grammar, else null. */
function operationPhrase(step: Step): string | null {
  if (step.comment.length !== 1) return null;
  const phrase = step.comment[0]!.trim();
  return PHRASE.test(phrase) ? phrase : null;
}

/** `code`'s first line as `const x = a op b;`: [line, x, a, op, b], else null. */
function firstBinaryLine(code: string): RegExpExecArray | null {
  return BINARY.exec(code.split('\n')[0]!.trim());
}

/**
 * True when the step's comment is one line, an operation phrase of the bootstrap grammar, and its
 * code does not compute exactly that operation: the first code line must be `const x = a op b;` with
 * opPhrase(op, a, b) equal to the comment (or opPhrase(op, b, a) for + and *). Steps whose comment is
 * not such a phrase are never judged, nor are longer comments: a DeepMind step copies the question
 * ("Divide n0 by n1.") under a line of its own and computes it with the prelude.
 */
export function commentContradictsCode(step: Step): boolean {
  const phrase = operationPhrase(step);
  if (phrase === null) return false;
  const c = firstBinaryLine(step.code);
  if (!c) return true;
  const [, , x = '', sym, y = ''] = c;
  const op = sym as BinOp;
  if (opPhrase(op, x, y) === phrase) return false;
  return !((op === '+' || op === '*') && opPhrase(op, y, x) === phrase);
}

// In the bootstrap grammar a question number is an operand once: 95.5 % of the MAWPS/ASDiv-A
// training references (every schema problem) use each at most once, while the terminals the PPM
// wrongly ranks first on the grouped dev often use one twice (`n2 * r1` after `r1 = n1 + n2`).

/** True when the step is in the bootstrap grammar (a one-line operation phrase over `const x = a op b;`)
 *  and one of its question-number operands (n0, n1, …) is the other one or an operand of an
 *  ancestor's `const x = a op b;` line. */
export function reusesQuestionNumber(ancestors: readonly string[], step: Step): boolean {
  if (operationPhrase(step) === null) return false;
  const c = firstBinaryLine(step.code);
  if (!c) return false;
  const own = [c[2]!, c[4]!].filter((x) => /^n\d+$/.test(x));
  if (own.length === 2 && own[0] === own[1]) return true;
  const used = new Set(binaryLines(ancestors).flatMap((d) => [d.a, d.b]));
  return own.some((x) => used.has(x));
}

/**
 * Whether the reuse check suits a problem from this source: not GSM8K's, whose bootstrap trajectories
 * use a question number twice in 47 % of cases (3,325 of 7,126), where MAWPS/ASDiv-A's do in 4.5 %.
 * A question of unknown source (solve, the browser page) is checked.
 */
export function reuseCheckApplies(source?: string): boolean {
  return !source?.toLowerCase().includes('gsm8k');
}

/** The `const x = a op b;` lines of the ancestors' code, in order. */
function binaryLines(ancestors: readonly string[]): { x: string; a: string; op: string; b: string }[] {
  return ancestors.flatMap((code) => code.split('\n')).flatMap((line) => {
    const d = BINARY.exec(line.trim());
    return d ? [{ x: d[1]!, a: d[2]!, op: d[3]!, b: d[4]! }] : [];
  });
}

// A step that undoes an earlier one (`const r1 = n0 * n1;` then `r1 / n0`) or cancels a name against
// itself (`n0 - n0`, `r1 / r1`) only recomputes a value the trajectory already has, so a solution never
// needs it; a small policy writes such detours, and the PPM has scored them above the right answer
// (`3 pizzas for $8 each`: 8 · 3 / 3 = 8 ranked first). Judged on `const x = a op b;` lines only.

/** True when `code`'s first line undoes an ancestor's `const r = a op b;` (r − a, r − b after +;
 *  r / a, r / b after ·; r + b after −; r · b after /; a − r after r = a − b; a / r after r = a / b) or
 *  subtracts or divides a name by itself. */
export function undoesEarlierStep(ancestors: readonly string[], code: string): boolean {
  const c = firstBinaryLine(code);
  if (!c) return false;
  const [, , x = '', op, y = ''] = c;
  if ((op === '-' || op === '/') && x === y) return true;
  // a name defined twice: its last definition
  const defs = new Map(binaryLines(ancestors).map((d) => [d.x, d]));
  const dx = defs.get(x);
  const dy = defs.get(y);
  switch (op) {
    case '-': // (a + b) − a; a − (a − b)
      return (dx?.op === '+' && (y === dx.a || y === dx.b)) || (dy?.op === '-' && dy.a === x);
    case '/': // (a · b) / a; a / (a / b)
      return (dx?.op === '*' && (y === dx.a || y === dx.b)) || (dy?.op === '/' && dy.a === x);
    case '+': // (a − b) + b, either order
      return (dx?.op === '-' && dx.b === y) || (dy?.op === '-' && dy.b === x);
    case '*': // (a / b) · b, either order
      return (dx?.op === '/' && dx.b === y) || (dy?.op === '/' && dy.b === x);
    default:
      return false;
  }
}
