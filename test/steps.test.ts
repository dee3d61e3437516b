import { describe, expect, it } from 'vitest';
import {
  MARK, commentContradictsCode, reuseCheckApplies, reusesQuestionNumber, undoesEarlierStep, isTerminal, maskNumbers, numberPrelude, questionBags, questionBaseNumerals, parseSolution, parseStep, programOf, promptFor, questionNumbers,
  serializeSolution, serializeStep, serializeTrajectory, tagQuestion, type Step,
} from '../src/data/steps.ts';
import { convertProblem } from '../src/data/bootstrap/index.ts';
import { loadDataset } from '../src/data/datasets.ts';
import { interleaveModules } from '../src/data/problems.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

const natalia: Step[] = [
  { comment: ['Natalia sold 48/2 clips in May.'], code: 'const may = 48 / 2;' },
  { comment: ['Natalia sold 48+24 clips altogether.', 'That is the answer.'], code: 'const total = 48 + may;\nprint(total);' },
];

describe('step format', () => {
  it('serialises steps with end markers and parses them back', () => {
    const text = serializeSolution(natalia);
    expect(text).toBe(
      '// Natalia sold 48/2 clips in May.\nconst may = 48 / 2;\n<end_of_step>\n' +
        '// Natalia sold 48+24 clips altogether.\n// That is the answer.\nconst total = 48 + may;\nprint(total);\n<end_of_solution>\n',
    );
    const back = parseSolution(text);
    expect(back.complete).toBe(true);
    expect(back.steps).toEqual(natalia);
    expect(serializeSolution(back.steps)).toBe(text);
  });

  it('round-trips every converted reference solution of the first 200 problems of each dataset', () => {
    let n = 0;
    for (const d of ['gsm8k', 'mawps', 'deepmind']) {
      for (const p of loadDataset(d).slice(0, 200)) {
        const steps = convertProblem(p);
        if (!steps) continue;
        const text = serializeSolution(steps);
        expect(parseSolution(text).steps).toEqual(steps.map((s) => ({ ...s, comment: s.comment.map((c) => c.replace(/\s+/g, ' ').trim()) })));
        n++;
      }
    }
    expect(n).toBeGreaterThan(400);
  });

  it('stops parsing at <end_of_solution> and reports incomplete text', () => {
    const t = serializeSolution(natalia) + '// junk after the end\nconst z = 1;\n';
    expect(parseSolution(t).steps).toHaveLength(2);
    const partial = serializeStep(natalia[0]!) + '// half a step\nconst x =';
    const r = parseSolution(partial);
    expect(r.complete).toBe(false);
    expect(r.steps).toHaveLength(2);
    expect(r.steps[1]!.code).toBe('const x =');
  });

  it('a step without code parses to null; comment-only text is not a step', () => {
    expect(parseStep('// only a comment\n<end_of_step>')).toBeNull();
    expect(parseStep('\n\n')).toBeNull();
    expect(parseStep('// c\nconst a = 1;\n<end_of_step>')).toEqual({ comment: ['c'], code: 'const a = 1;' });
  });

  it('terminal = the code calls print (not in a comment, not a method named print)', () => {
    expect(isTerminal({ comment: [], code: 'print(x);' })).toBe(true);
    expect(isTerminal({ comment: ['print(x) later'], code: 'const x = 1;' })).toBe(false);
    expect(isTerminal({ comment: [], code: 'const x = 1; // print(x)' })).toBe(false);
    expect(isTerminal({ comment: [], code: 'doc.print(x);' })).toBe(false);
    expect(isTerminal({ comment: [], code: 'const y = 2;\nprint (y)' })).toBe(true);
  });

  it('prompt: one line, markers inside the question cannot survive', () => {
    const p = promptFor(`two\nlines ${MARK.endStep} here`, 'values');
    expect(p.startsWith(MARK.question)).toBe(true);
    expect(p.endsWith(`${MARK.solution}\n`)).toBe(true);
    expect(p.slice(MARK.question.length, -MARK.solution.length - 1)).toBe('two lines here');
    expect(serializeTrajectory('q', natalia, 'values')).toBe(promptFor('q', 'values') + serializeSolution(natalia));
  });
});

describe("the question's numbers as names", () => {
  const q = 'Bryan has 56 books in each of his 9 shelves, 1,200 pages and 0.5 kg . He read 56 of them.';

  it('names numbers in reading order, with commas and decimals', () => {
    expect(questionNumbers(q).map((n) => [n.name, n.text, n.value])).toEqual([
      ['n0', '56', 56], ['n1', '9', 9], ['n2', '1,200', 1200], ['n3', '0.5', 0.5], ['n4', '56', 56],
    ]);
    expect(tagQuestion(q, 'values')).toBe('Bryan has n0=56 books in each of his n1=9 shelves, n2=1,200 pages and n3=0.5 kg . He read n4=56 of them.');
    expect(tagQuestion(q, 'names')).toBe('Bryan has n0 books in each of his n1 shelves, n2 pages and n3 kg . He read n4 of them.');
    expect(numberPrelude(q)).toBe('const n0 = 56, n1 = 9, n2 = 1200, n3 = 0.5, n4 = 56;');
    expect(numberPrelude('no numbers here')).toBe('');
    expect(programOf('no numbers', ['a'])).toEqual(['a']);
    expect(programOf('x 3', ['a'])).toEqual(['const n0 = 3;', 'a']);
  });

  it('a decimal glued to its unit is one number; an integer glued to letters is none', () => {
    expect(tagQuestion('Convert 233.68113ms to hours.', 'names')).toBe('Convert n0ms to hours.');
    expect(numberPrelude('How many grams are there in 1,234.5kg?')).toBe('const n0 = 1234.5;');
    expect(tagQuestion('What is the 5th day of 2021?', 'names')).toBe('What is the 5th day of n0?');
  });

  it('names the numerals of another base b0, b1, …, digits only or not, and not as numbers', () => {
    expect(tagQuestion('In base 16, what is -1ede + 613?', 'names')).toBe('In base n0, what is b0 + b1?');
    expect(numberPrelude('In base 6, what is 11 - -1142202?')).toBe('const n0 = 6, b0 = "11", b1 = "-1142202";');
    expect(tagQuestion('Convert -3a249 (base 13) to base 10.', 'values')).toBe('Convert b0 (base n0=13) to base n1=10.');
    expect(questionBaseNumerals('What is 247f (base 16) in base 2?')).toEqual([{ name: 'b0', text: '247f' }]);
    expect(questionNumbers('In base 16, what is 8db + 10df?').map((n) => n.text)).toEqual(['16']);
    // elsewhere a word before "(base" is English, and sums are left alone
    expect(tagQuestion('What is 5 + 613?', 'names')).toBe('What is n0 + n1?');
  });

  it('names letter bags w0, w1, … beside the numbers, and leaves English after the same phrase alone', () => {
    const bag = 'Two letters picked without replacement from hnlllllhlhnnhh. What is prob of picking 2 h? Then 3 from qiiq?';
    expect(tagQuestion(bag, 'names')).toBe('Two letters picked without replacement from w0. What is prob of picking n0 h? Then n1 from qiiq?');
    expect(questionBags(bag)).toEqual([{ name: 'w0', text: 'hnlllllhlhnnhh' }]);
    expect(numberPrelude(bag)).toBe('const n0 = 2, n1 = 3, w0 = "hnlllllhlhnnhh";');
    expect(tagQuestion('Balls are drawn without replacement from the box. Which is red?', 'names')).toBe('Balls are drawn without replacement from the box. Which is red?');
    expect(numberPrelude('Picked without replacement from the.')).toBe('const w0 = "the";');
    expect(numberPrelude('Picked without replacement from ab.')).toBe('');
  });

  it('masks literals equal to a question number (first occurrence), leaving others and identifiers alone', () => {
    const s = maskNumbers({ comment: ['Multiply 56 by 9 and add 2.'], code: 'const v2 = 56 * 9 + 1200 + 0.5 + 2;' }, questionNumbers(q));
    expect(s).toEqual({ comment: ['Multiply n0 by n1 and add 2.'], code: 'const v2 = n0 * n1 + n2 + n3 + 2;' });
  });

  it('masked programs compute what the literal ones did', async () => {
    const pool = new SandboxPool({ workers: 1 });
    try {
      const raw: Step = { comment: [], code: 'print(56 * 9 - 1200 / 0.5);' };
      const masked = maskNumbers(raw, questionNumbers(q));
      expect(masked.code).not.toMatch(/56|1200/);
      const a = await pool.run(programOf(q, [raw.code]));
      const b = await pool.run(programOf(q, [masked.code]));
      expect(a.ok && b.ok).toBe(true);
      expect(b.answer).toBe(a.answer);
    } finally {
      await pool.close();
    }
  });
});

describe('commentContradictsCode', () => {
  const c = (comment: string, code: string) => commentContradictsCode({ comment: [comment], code });
  it('judges operation phrases against the first code line: order matters for - and /, not for + and *', () => {
    expect(c('Subtract n1 from n0.', 'const r1 = n0 - n1;')).toBe(false);
    expect(c('Subtract n1 from n0.', 'const r1 = n1 - n0;')).toBe(true);
    expect(c('Divide n0 by n1.', 'const answer = n0 / n1;\nprint(answer);')).toBe(false);
    expect(c('Divide n0 by n1.', 'const answer = n1 / n0;\nprint(answer);')).toBe(true);
    expect(c('Add n0 and n2.', 'const r1 = n2 + n0;')).toBe(false);
    expect(c('Add n0 and n2.', 'const r1 = n0 + n1;')).toBe(true); // the wrong operand
    expect(c('Multiply r1 by 0.01.', 'const r2 = 0.01 * r1;')).toBe(false);
    expect(c('Multiply r1 by 0.01.', 'const r2 = r1 * 1;')).toBe(true);
    expect(c('Multiply n0 by n1.', 'const r1 = n0 + n1;')).toBe(true); // the wrong operator
    expect(c('Add r1 and n0.', 'const answer = r1 + n0 + n0;')).toBe(true); // more than the phrase says
    expect(c('Add n0 by n1.', 'const r1 = n0 + n1;')).toBe(true); // the wrong link word
  });
  it('leaves steps outside the grammar alone (other datasets, free text, malformed phrases)', () => {
    expect(c('Natalia sold 48/2 clips in May.', 'const may = 48 / 2;')).toBe(false);
    expect(c('Add the apples and pears.', 'const x = 1;')).toBe(false);
    expect(c('Add n0.', 'const answer = n0 + r1;')).toBe(false);
    expect(commentContradictsCode({ comment: [], code: 'const x = 1;' })).toBe(false);
    // only the last comment line is the phrase
    expect(commentContradictsCode({ comment: ['Subtract n1 from n0.', 'Then halve it.'], code: 'const r1 = n1 - n0;' })).toBe(false);
    // a phrase under another comment line is a copied question (DeepMind's "Divide 5500528 by 125012."), not the grammar
    expect(commentContradictsCode({ comment: ["The question's numbers as exact values, by name.", 'Divide n0 by n1.'], code: 'const E = { n0, n1 };\nconst answer = ev("(n0) / (n1)", E);' })).toBe(false);
  });
  it('never fires on the bootstrap trajectories of any dataset', () => {
    let swapped = 0;
    for (const name of ['mawps', 'gsm8k', 'deepmind']) {
      let judged = 0;
      // DeepMind: 8 lines of every module (the file runs module by module)
      const lines = name === 'deepmind' ? interleaveModules(loadDataset(name)).slice(0, 8 * 56) : loadDataset(name).slice(0, 400);
      for (const p of lines) {
        for (const s of convertProblem(p) ?? []) {
          expect(commentContradictsCode(s), `${p.id}: ${s.comment.join(' / ')} | ${s.code}`).toBe(false);
          judged++;
          // and the check is live on MAWPS's (the grammar's source): swapping the operands of a difference or quotient fires it
          const m = /^(const \w+ = )(\w+(?:\.\d+)?) ([-/]) (\w+(?:\.\d+)?);/.exec(s.code);
          if (name === 'mawps' && m && m[2] !== m[4]) {
            expect(commentContradictsCode({ ...s, code: s.code.replace(m[0], `${m[1]}${m[4]} ${m[3]} ${m[2]};`) })).toBe(true);
            swapped++;
          }
        }
      }
      expect(judged).toBeGreaterThan(100);
    }
    expect(swapped).toBeGreaterThan(50);
  });
});

describe('undoesEarlierStep', () => {
  it('fires on a step that inverts an ancestor\'s operation with one of its operands, or cancels a name with itself', () => {
    const u = undoesEarlierStep;
    expect(u(['const r1 = n0 * n1;'], 'const answer = r1 / n0;\nprint(answer);')).toBe(true);
    expect(u(['const r1 = n0 * n1;'], 'const answer = r1 / n1;')).toBe(true);
    expect(u(['const r1 = n0 * n1;'], 'const answer = r1 / n2;')).toBe(false);
    expect(u(['const r1 = n0 + n1;'], 'const r2 = r1 - n1;')).toBe(true);
    expect(u(['const r1 = n0 + n1;'], 'const r2 = n1 - r1;')).toBe(false); // −n0: a new value
    expect(u(['const r1 = n0 - n1;'], 'const r2 = r1 + n1;')).toBe(true);
    expect(u(['const r1 = n0 - n1;'], 'const r2 = n1 + r1;')).toBe(true);
    expect(u(['const r1 = n0 - n1;'], 'const r2 = r1 + n0;')).toBe(false);
    expect(u(['const r1 = n0 - n1;'], 'const r2 = n0 - r1;')).toBe(true); // n1 again
    expect(u(['const r1 = n0 / n1;'], 'const r2 = r1 * n1;')).toBe(true);
    expect(u(['const r1 = n0 / n1;'], 'const r2 = n0 / r1;')).toBe(true);
    expect(u(['const r1 = n0 / n1;'], 'const r2 = r1 * n0;')).toBe(false);
    expect(u([], 'const r1 = n0 - n0;')).toBe(true);
    expect(u([], 'const r1 = n0 / n0;')).toBe(true);
    expect(u([], 'const r1 = n0 * n0;')).toBe(false); // a square is new
    expect(u(['const r1 = n0 * n1;', 'const r2 = r1 + n2;'], 'const answer = r2 - n2;')).toBe(true); // any ancestor
    expect(u(['const r1 = n0 * n1;\nconst r2 = r1 + 1;'], 'const r3 = r2 - 1;')).toBe(true); // any line of one
    expect(u(['const r1 = n0 * n1;'], 'const answer = ev("r1 / n0");')).toBe(false); // outside the grammar
  });
  it('fires on few bootstrap trajectories: a reference equation rarely takes a detour (MAWPS/ASDiv-A 20 of 3,138, GSM8K 149 of 7,247, DeepMind none)', () => {
    for (const [name, most] of [['mawps', 0.01], ['gsm8k', 0.03], ['deepmind', 0]] as const) {
      let judged = 0;
      let fired = 0;
      const lines = name === 'deepmind' ? interleaveModules(loadDataset(name)).slice(0, 8 * 56) : loadDataset(name).slice(0, 1000);
      for (const p of lines) {
        const codes: string[] = [];
        for (const s of convertProblem(p) ?? []) {
          if (undoesEarlierStep(codes, s.code)) fired++;
          codes.push(s.code);
          judged++;
        }
      }
      expect(judged).toBeGreaterThan(100);
      expect(fired / judged, name).toBeLessThanOrEqual(most);
    }
  });
});

describe('reusesQuestionNumber', () => {
  const op = (comment: string, code: string): Step => ({ comment: [comment], code });
  it('fires on a bootstrap-grammar step whose question-number operand is the other one or an ancestor operand', () => {
    const r = reusesQuestionNumber;
    expect(r(['const r1 = n1 + n2;'], op('Multiply n2 by r1.', 'const answer = n2 * r1;\nprint(answer);'))).toBe(true);
    expect(r(['const r1 = n1 + n2;'], op('Multiply n0 by r1.', 'const answer = n0 * r1;'))).toBe(false);
    expect(r([], op('Multiply n1 by n1.', 'const r1 = n1 * n1;'))).toBe(true);
    expect(r([], op('Multiply n0 by n1.', 'const r1 = n0 * n1;'))).toBe(false);
    expect(r(['const r1 = n0 * n1;', 'const r2 = r1 - n2;'], op('Add r2 and n0.', 'const r3 = r2 + n0;'))).toBe(true); // any ancestor
    expect(r(['const r1 = n0 * n1;'], op('Add r1 and r1.', 'const r2 = r1 + r1;'))).toBe(false); // results are not question numbers
  });
  it('judges only the bootstrap grammar: other comments, longer comments and other code are never judged', () => {
    const r = reusesQuestionNumber;
    expect(r(['const r1 = n0 * n1;'], op('She has n0 more.', 'const r2 = r1 + n0;'))).toBe(false);
    expect(r(['const r1 = n0 * n1;'], { comment: ['Add r1 and n0.', 'Then more.'], code: 'const r2 = r1 + n0;' })).toBe(false);
    expect(r(['const r1 = n0 * n1;'], op('Add r1 and n0.', 'const r2 = ev("r1 + n0");'))).toBe(false);
  });
  it('fires on few MAWPS/ASDiv-A reference solutions, on no DeepMind one, and on half of GSM8K (reuseCheckApplies: not checked)', () => {
    expect([reuseCheckApplies('gsm8k'), reuseCheckApplies('mawps'), reuseCheckApplies('mawps-synth-chain'), reuseCheckApplies(undefined)]).toEqual([false, true, true, true]);
    for (const [name, least, most] of [['mawps', 0.005, 0.08], ['gsm8k', 0.3, 0.7], ['deepmind', 0, 0]] as const) {
      let fired = 0;
      const lines = name === 'deepmind' ? interleaveModules(loadDataset(name)).slice(0, 8 * 56) : loadDataset(name).slice(0, 1000);
      for (const p of lines) {
        const codes: string[] = [];
        let hit = false;
        for (const s of convertProblem(p) ?? []) {
          hit ||= reusesQuestionNumber(codes, s);
          codes.push(s.code);
        }
        if (hit) fired++;
      }
      expect(fired / lines.length, name).toBeGreaterThanOrEqual(least);
      expect(fired / lines.length, name).toBeLessThanOrEqual(most);
    }
  });
});
