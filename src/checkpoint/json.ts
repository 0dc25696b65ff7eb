/** JSON from files with a bound on nesting, so that a hostile header cannot overflow the stack later on. */
import { FormatError } from './formatError.js';

/**
 * The deepest nesting of arrays and objects in JSON text (strings skipped, escapes honoured). Linear in the
 * length, no recursion. On text that is not JSON the result is still a bound of what JSON.parse would build.
 */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** JSON.parse with a nesting limit; FormatError naming `what` for invalid or too deeply nested JSON. */
export function parseJsonBounded(text: string, maxDepth: number, what: string): unknown {
  const depth = jsonNestingDepth(text);
  if (depth > maxDepth)
    throw new FormatError(`${what} nests ${depth} levels deep; a valid one nests at most ${maxDepth}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FormatError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}
