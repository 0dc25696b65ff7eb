/** Validation of command-line option values: each failure names the option, the value and what is allowed. */
import { UserError } from './userError.js';
import type { Command } from 'commander';

export function parseIntOption(
  flag: string,
  value: string,
  range: { min?: number; max?: number } = {},
): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new UserError(`${flag} must be an integer, got "${value}"`);
  }
  if (range.min !== undefined && n < range.min)
    throw new UserError(`${flag} must be ≥ ${range.min}, got ${n}`);
  if (range.max !== undefined && n > range.max)
    throw new UserError(`${flag} must be ≤ ${range.max}, got ${n}`);
  return n;
}

export function parseFloatOption(
  flag: string,
  value: string,
  range: { min?: number; max?: number } = {},
): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UserError(`${flag} must be a finite number, got "${value}"`);
  if (range.min !== undefined && n < range.min)
    throw new UserError(`${flag} must be ≥ ${range.min}, got ${n}`);
  if (range.max !== undefined && n > range.max)
    throw new UserError(`${flag} must be ≤ ${range.max}, got ${n}`);
  return n;
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UserError(`${flag} must be one of ${choices.join(', ')}; got "${value}"`);
}

/** A comma-separated list of integers ("32,64"), each checked as parseIntOption does. */
export function parseListOption(
  flag: string,
  value: string,
  range: { min?: number; max?: number } = {},
): number[] {
  return value.split(',').map((item) => parseIntOption(flag, item, range));
}

/**
 * UserError if any of the options (commander attribute names, e.g. 'diffusionSteps') was given on the command
 * line: for flags that do not apply to the chosen mode or model, which would otherwise be ignored in silence.
 */
export function refuseGivenOptions(cmd: Command, attributes: readonly string[], reason: string): void {
  const given = cmd.options
    .filter(
      (o) => attributes.includes(o.attributeName()) && cmd.getOptionValueSource(o.attributeName()) === 'cli',
    )
    .map((o) => o.long ?? o.flags);
  if (given.length === 0) return;
  const one = given.length === 1;
  throw new UserError(
    `${given.join(', ')} ${one ? 'does' : 'do'} not apply ${reason}; drop ${one ? 'it' : 'them'}`,
  );
}
