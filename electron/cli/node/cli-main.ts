// The `trove` command line: finds the command (and the `model` subcommand), hands it the rest of
// the arguments, and prints every error one way: a usage error (exit 2) as the message and the
// command's usage line, a failure (exit 1) as the message alone. `trove help CMD`, `trove CMD
// --help` and `trove --version` are answered here.
import { readFileSync } from 'node:fs';
import { CliFailure, CliUsageError } from './command-line/cli-error.ts';
import type { Command } from './command-line/command-line.ts';
import { closestName } from './command-line/did-you-mean.ts';
import { enableVerboseLogging } from './command-line/verbose-logging.ts';
import { embedCommand } from './commands/embed.ts';
import { indexCommand } from './commands/index-folder.ts';
import { modelBuildCommand } from './commands/model-build.ts';
import { modelInspectCommand } from './commands/model-inspect.ts';
import { modelListCommand } from './commands/model-list.ts';
import { modelPullCommand } from './commands/model-pull.ts';
import { modelTinyCommand } from './commands/model-tiny.ts';
import { rerankCommand } from './commands/rerank.ts';
import { searchCommand } from './commands/search.ts';
import { serveCommand } from './commands/serve.ts';
import { statusCommand } from './commands/status.ts';

/** Every command, in the order `trove --help` lists them. */
const COMMANDS: readonly Command[] = [
  indexCommand,
  searchCommand,
  statusCommand,
  serveCommand,
  modelListCommand,
  modelPullCommand,
  modelBuildCommand,
  modelInspectCommand,
  modelTinyCommand,
  embedCommand,
  rerankCommand,
];

/** Commands that only group subcommands ('model'). */
const GROUPS = [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(): string {
  const lines = ['Usage: trove <command> [options]', '', 'Commands:'];
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push(
    '',
    'Every command takes --help (or: trove help <command>) and --verbose.',
    '--version prints the version. Exit codes: 0 done, 1 failed (the message says why), 2 usage error.',
    'Library commands keep their data in --data DIR, else TROVE_DATA_DIR, else the app-data folder.',
  );
  return lines.join('\n');
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...members.map((c) => c.name.length));
  return [`Usage: trove ${group} <command> [options]`, '', 'Commands:', ...members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', `Run 'trove ${group} <command> --help' for the options of one.`].join('\n');
}

/** A usage error that belongs to no single command (an unknown command word). */
class TopLevelUsageError extends CliUsageError {
  constructor(
    message: string,
    readonly usageHint: string,
  ) {
    super(message);
  }
}

function unknownCommand(word: string, group: string | null): TopLevelUsageError {
  const candidates = group ? COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1)) : [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!)), 'help'];
  const guess = closestName(word, candidates);
  const what = group ? `'${group}' command` : 'command';
  const list = group ? `'trove ${group} --help' lists them` : "'trove --help' lists them";
  return new TopLevelUsageError(`unknown ${what} '${word}'${guess ? `; did you mean '${group ? `${group} ` : ''}${guess}'?` : '.'}`, `(${list})`);
}

/** The command `words` name, or a usage error; `rest` is what follows the command's words. */
function findCommand(words: readonly string[]): { command: Command | null; group: string | null; rest: string[] } {
  const [first, second, ...others] = words;
  if (first !== undefined && GROUPS.includes(first)) {
    if (second === undefined || second.startsWith('-')) return { command: null, group: first, rest: words.slice(1) };
    const command = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (!command) throw unknownCommand(second, first);
    return { command, group: first, rest: others };
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) throw unknownCommand(first ?? '', null);
  return { command, group: null, rest: words.slice(1) };
}

/** `trove help`, `trove help model`, `trove help model pull`. */
function printHelpFor(words: readonly string[]): number {
  if (words.length === 0) {
    console.log(overview());
    return 0;
  }
  const { command, group } = findCommand(words);
  console.log(command ? command.help() : groupHelp(group!));
  return 0;
}

function report(error: unknown, command: Command | null): number {
  if (error instanceof TopLevelUsageError) {
    console.error(`trove: ${error.message}\n${error.usageHint}`);
    return 2;
  }
  if (error instanceof CliUsageError) {
    const usage = command ? `Usage: trove ${command.name} ${command.usage}   ('trove ${command.name} --help' for all options)` : "Run 'trove --help' for the commands.";
    // "trove index: index needs …" reads better without the repeated command name.
    const message = command && error.message.startsWith(`${command.name} `) ? error.message.slice(command.name.length + 1) : error.message;
    console.error(`trove${command ? ` ${command.name}` : ''}: ${message}\n${usage}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`trove: ${message}`);
  if (process.env.TROVE_DEBUG && !(error instanceof CliFailure)) console.error(error);
  return 1;
}

/**
 * Which command `argv` runs, checked as `main` would check it (the command word and its options),
 * without running it: for tests that hold the docs to the real command line.
 */
export function checkCommandLine(argv: readonly string[]): string {
  const words = argv[0] === '--verbose' ? argv.slice(1) : argv;
  const found = findCommand(words);
  if (found.command === null) throw new CliUsageError(`'trove ${found.group}' needs a command.`);
  found.command.check(found.rest);
  return found.command.name;
}

export async function main(argv: readonly string[]): Promise<number> {
  let command: Command | null = null;
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      console.error(overview());
      return 2;
    }
    if (first === '--help' || first === '-h') return printHelpFor([]);
    if (first === 'help') return printHelpFor(rest);
    if (first === '--version' || first === '-V') {
      console.log(`trove ${version()}`);
      return 0;
    }
    if (first === '--verbose') {
      enableVerboseLogging();
      return await main(rest);
    }
    if (first.startsWith('-')) {
      const guess = closestName(first, ['--help', '--version', '--verbose']);
      throw new TopLevelUsageError(
        guess ? `unknown option '${first}'; did you mean '${guess}'?` : `unknown option '${first}'. Options go after the command: trove <command> ${first}`,
        "('trove --help' lists the commands)",
      );
    }
    const found = findCommand(argv);
    if (found.command === null) {
      // A group alone ('trove model') or with an option ('trove model --help').
      const group = found.group!;
      if (found.rest.includes('--help') || found.rest.includes('-h')) {
        console.log(groupHelp(group));
        return 0;
      }
      throw new TopLevelUsageError(
        found.rest.length === 0 ? `'trove ${group}' needs a command.` : `'${found.rest[0]}' comes before the '${group}' command; write the command first.`,
        groupHelp(group),
      );
    }
    command = found.command;
    return await command.main(found.rest);
  } catch (error) {
    return report(error, command);
  }
}
