// Types for scripts/check-electron.js (plain JavaScript, run by `npm start` before any build).
/** Why the Electron binary in `electronDir` (the electron package folder) cannot run, or null. */
export declare function electronBinaryProblem(electronDir: string, env?: NodeJS.ProcessEnv): string | null;
