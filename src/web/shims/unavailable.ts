// Any other node: module in the browser bundles (build.ts): importing is fine, using it throws. The
// names are what library modules reachable from the page import (build fails on a new one).
const no = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser`);
};
export const createHash = no('node:crypto createHash');
export const randomBytes = no('node:crypto randomBytes');
export const createRequire = no('node:module createRequire');
export const execFileSync = no('node:child_process execFileSync');
export const spawn = no('node:child_process spawn');
export const fork = no('node:child_process fork');
export const tmpdir = no('node:os tmpdir');
export const cpus = no('node:os cpus');
export const once = no('node:events once');
export class EventEmitter {
  constructor() {
    throw new Error('node:events EventEmitter is not available in the browser');
  }
}
export default { createHash, randomBytes, createRequire, execFileSync, spawn, fork, tmpdir, cpus, once, EventEmitter };
