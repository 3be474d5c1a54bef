#!/usr/bin/env node
// `npx trove …`: the CLI adapter, run from TypeScript sources through tsx's loader.
import { nodeVersionProblem } from './node-requirement.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
// A reader that stops early (`trove status --failed | head`) closes the pipe: stop quietly, as other
// command-line tools do, instead of a stack trace about EPIPE.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../electron/cli/node/cli-main.ts');
process.exitCode = await main(process.argv.slice(2));
