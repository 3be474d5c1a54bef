// One way for every `trove` command to declare and read its arguments: options with their help
// lines, `-h/--help` and `--verbose` on every command, and usage errors that all read alike
// ("unknown option '--onc'; did you mean '--once'?"). Built on node:util parseArgs in its
// non-strict, token mode so the checks (unknown options, missing values, values given to flags,
// negative numbers) and their wording are ours rather than Node's.
import { parseArgs } from 'node:util';
import { CliUsageError } from './cli-error.ts';
import { closestName } from './did-you-mean.ts';
import { enableVerboseLogging } from './verbose-logging.ts';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Repeatable: the values come as an array, in command-line order. */
  readonly multiple?: boolean;
  readonly short?: string;
  /** The value's placeholder in the help ("DIR", "N"). */
  readonly value?: string;
  readonly help: string;
}
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<O extends OptionSpec> = O['type'] extends 'boolean' ? boolean : O['multiple'] extends true ? string[] : string;
export type OptionValues<Os extends OptionSpecs> = { -readonly [K in keyof Os]?: ValueOf<Os[K]> };

/** An option as it appeared, in order (commands whose meaning depends on order read these). */
export interface OptionOccurrence {
  readonly name: string;
  readonly value: string | undefined;
}

export interface ParsedCommandLine<Os extends OptionSpecs> {
  readonly values: OptionValues<Os>;
  readonly positionals: string[];
  readonly occurrences: OptionOccurrence[];
}

export interface CommandDefinition<Os extends OptionSpecs> {
  /** The words after `trove`: 'index', 'model pull'. */
  readonly name: string;
  /** One line for `trove --help`. */
  readonly summary: string;
  /** What follows the name in the usage line: '<folder> [options]'. */
  readonly usage: string;
  /** Paragraphs for `--help`, between the usage line and the options. */
  readonly description?: string;
  readonly options: Os;
  /** Whether the command takes positional arguments (else any is a usage error). */
  readonly positionals?: boolean;
  /** Text after the options in `--help` (JSON shapes, examples). */
  readonly footer?: string;
  run(args: ParsedCommandLine<Os>): Promise<number>;
}

/** A command as the dispatcher sees it. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  help(): string;
  main(argv: readonly string[]): Promise<number>;
  /** Parses `argv` as main would, without running anything; throws the usage error main would print. */
  check(argv: readonly string[]): void;
}

/** Options every command takes. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  verbose: { type: 'boolean', help: "say on stderr where the models run and why, and the runtime's warnings (as TROVE_LOG=warning)" },
} satisfies OptionSpecs;

function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : long;
}

function helpText(definition: CommandDefinition<OptionSpecs>): string {
  const options: OptionSpecs = { ...definition.options, ...COMMON_OPTIONS };
  const labels = Object.entries(options).map(([name, spec]) => [optionLabel(name, spec), `${spec.help}${spec.multiple ? ' (repeatable)' : ''}`] as const);
  const width = Math.min(28, Math.max(...labels.map(([label]) => label.length)));
  const lines = [`Usage: trove ${definition.name} ${definition.usage}`.trimEnd(), ''];
  if (definition.description) lines.push(definition.description, '');
  lines.push('Options:');
  for (const [label, text] of labels) {
    lines.push(label.length > width ? `  ${label}\n  ${' '.repeat(width)}  ${text}` : `  ${label.padEnd(width)}  ${text}`);
  }
  if (definition.footer) lines.push('', definition.footer);
  return lines.join('\n');
}

/** A value that reads as a negative number ("-3", "-0.5") is a value, not an option. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

function knownOptionNames(options: OptionSpecs): string[] {
  return Object.entries(options).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]);
}

function unknownOption(raw: string, options: OptionSpecs): CliUsageError {
  const bare = raw.replace(/=.*$/, '');
  const guess = closestName(bare, knownOptionNames(options));
  const negative = NEGATIVE_NUMBER.test(bare) ? ` A negative number is not a valid value here.` : '';
  return new CliUsageError(`unknown option '${bare}'${guess ? `; did you mean '${guess}'?` : '.'}${negative}`);
}

/** Parses `argv` against `options`; every problem is a CliUsageError in the shared wording. */
export function parseCommandLine<Os extends OptionSpecs>(argv: readonly string[], options: Os, allowPositionals: boolean): ParsedCommandLine<Os> {
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(Object.entries(options).map(([name, spec]) => [name, { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  const occurrences: OptionOccurrence[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    const spec = options[token.name];
    if (spec === undefined) throw unknownOption(token.rawName, options);
    const shown = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`${shown} takes no value (got '${token.value}'); write just ${shown}.`);
      values[token.name] = true;
    } else {
      const value = token.value;
      if (value === undefined) throw new CliUsageError(`${shown} needs a value: ${shown} ${spec.value ?? 'VALUE'}.`);
      // parseArgs takes the next word even when it is another option ("--limit --json").
      if (!token.inlineValue && value.startsWith('-') && value !== '-' && !NEGATIVE_NUMBER.test(value)) {
        throw new CliUsageError(`${shown} needs a value (${shown} ${spec.value ?? 'VALUE'}), but '${value}' came after it.`);
      }
      if (spec.multiple) ((values[token.name] as string[] | undefined) ?? (values[token.name] = [])).push(value);
      else values[token.name] = value;
    }
    occurrences.push({ name: token.name, value: token.value });
  }
  if (!allowPositionals && positionals.length > 0) {
    const extra = positionals[0]!;
    const asOption = closestName(extra, Object.keys(options));
    throw new CliUsageError(`unexpected argument '${extra}'${asOption ? `; did you mean '--${asOption}'?` : ': this command takes options only.'}`);
  }
  return { values: values as OptionValues<Os>, positionals, occurrences };
}

/** Whether `argv` asks for help anywhere before a `--`. */
function asksForHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

export function defineCommand<Os extends OptionSpecs>(definition: CommandDefinition<Os>): Command {
  const help = () => helpText(definition as unknown as CommandDefinition<OptionSpecs>);
  return {
    name: definition.name,
    summary: definition.summary,
    usage: definition.usage,
    help,
    async main(argv) {
      if (asksForHelp(argv)) {
        console.log(help());
        return 0;
      }
      const parsed = parseCommandLine(argv, { ...definition.options, ...COMMON_OPTIONS }, definition.positionals ?? false);
      if (parsed.values.verbose) enableVerboseLogging();
      return definition.run(parsed as unknown as ParsedCommandLine<Os>);
    },
    check(argv) {
      if (!asksForHelp(argv)) parseCommandLine(argv, { ...definition.options, ...COMMON_OPTIONS }, definition.positionals ?? false);
    },
  };
}
