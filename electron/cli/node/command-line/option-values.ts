// Checks for option values that must be numbers or one of a few words, with the shared wording
// ("--limit must be a whole number from 1 to 500, got '-3'").
import { CliUsageError } from './cli-error.ts';

/** `raw` as an integer in [min, max], `fallback` when the option was not given. */
export function integerOption(raw: string | undefined, option: string, range: { min: number; max: number }, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new CliUsageError(`${option} must be a whole number from ${range.min} to ${range.max}, got '${raw}'.`);
  }
  return value;
}

/** `raw` if it is one of `choices`, `fallback` when the option was not given. */
export function choiceOption<T extends string>(raw: string | undefined, option: string, choices: readonly T[], fallback: T): T;
export function choiceOption<T extends string>(raw: string | undefined, option: string, choices: readonly T[], fallback?: undefined): T | undefined;
export function choiceOption<T extends string>(raw: string | undefined, option: string, choices: readonly T[], fallback?: T): T | undefined {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new CliUsageError(`${option} must be one of ${choices.join(', ')}, got '${raw}'.`);
  return raw as T;
}
