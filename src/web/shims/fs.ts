// node:fs in the browser bundles (build.ts). Library modules read a few files next to themselves when
// imported (the sandbox prelude's .js sources); build.ts embeds those, keyed by file name, and
// readFileSync returns them. Anything else is not available in a browser and throws.
declare const __RSTAR_FILES__: Record<string, string>;
const FILES: Record<string, string> = typeof __RSTAR_FILES__ === 'object' ? __RSTAR_FILES__ : {};

const unavailable = (name: string) => (): never => {
  throw new Error(`node:fs ${name} is not available in the browser`);
};

export function readFileSync(file: string | URL, encoding?: unknown): string {
  const name = String(file).split(/[\\/]/).pop()!;
  const text = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (text === undefined) throw new Error(`node:fs readFileSync(${String(file)}) is not available in the browser (embedded: ${Object.keys(FILES).join(', ') || 'none'})`);
  if (encoding === undefined) throw new Error(`node:fs readFileSync(${String(file)}): the browser build embeds text only (pass an encoding)`);
  return text;
}
export const existsSync = (): boolean => false;
export const writeFileSync = unavailable('writeFileSync');
export const mkdirSync = unavailable('mkdirSync');
export const rmSync = unavailable('rmSync');
export const renameSync = unavailable('renameSync');
export const readdirSync = unavailable('readdirSync');
export const statSync = unavailable('statSync');
export const cpSync = unavailable('cpSync');
export const copyFileSync = unavailable('copyFileSync');
export const mkdtempSync = unavailable('mkdtempSync');
export const createReadStream = unavailable('createReadStream');
export const createWriteStream = unavailable('createWriteStream');
export const openSync = unavailable('openSync');
export const closeSync = unavailable('closeSync');
export const appendFileSync = unavailable('appendFileSync');
export const promises = new Proxy({}, { get: (_, k) => unavailable(`promises.${String(k)}`) });
export default { readFileSync, existsSync, writeFileSync, mkdirSync, rmSync, renameSync, readdirSync, statSync, cpSync, copyFileSync, mkdtempSync, createReadStream, createWriteStream, openSync, closeSync, appendFileSync, promises };
