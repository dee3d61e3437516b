// `npm run bench -- <name> [flags]`: each bench is bench/<name>.ts exporting main(argv).
// Benches print human lines plus one machine-readable `RESULT {json}` line per measurement.
const [name, ...rest] = process.argv.slice(2);
const benches = ['train', 'decode', 'sandbox', 'mcts', 'queue'];
if (!name || !benches.includes(name)) {
  console.error(`usage: npm run bench -- <${benches.join('|')}> [flags]`);
  process.exit(2);
}
let target = name;
// decode of a Hugging Face checkpoint lives beside our own decode bench
if (name === 'decode' && rest.some((a, i) => (a.startsWith('--model') && (a.includes('hf:') || (rest[i + 1] ?? '').startsWith('hf:'))) || a.startsWith('--random'))) target = 'decode-hf';
const mod = (await import(`./${target}.ts`)) as { main: (argv: string[]) => Promise<void> };
await mod.main(rest);
