import picomatch from 'picomatch';
import { UsageError } from '../core/errors.js';

/** Include and exclude glob patterns, matched against keys relative to the dataset prefix. */
export interface KeyFilterOptions {
  /** Keep only keys matching at least one of these. Default: every key. */
  include?: readonly string[];
  /** Drop keys matching any of these; an exclude match wins over an include match. Default: none. */
  exclude?: readonly string[];
}

export { GLOB_DIALECT_HELP } from './glob-dialect.js';

/**
 * Builds a predicate over relative keys: included (no include patterns, or one matches) and not excluded.
 * Throws UsageError for a pattern that is empty, starts with '/' or ends with '/' (it could never match an
 * object), or that picomatch cannot compile.
 */
export function createKeyFilter(options: KeyFilterOptions = {}): (relativeKey: string) => boolean {
  const include = (options.include ?? []).map((p) => compile(p, '--include'));
  const exclude = (options.exclude ?? []).map((p) => compile(p, '--exclude'));
  return (relativeKey) => {
    if (include.length > 0 && !include.some((matches) => matches(relativeKey))) return false;
    return !exclude.some((matches) => matches(relativeKey));
  };
}

function compile(pattern: string, flag: string): (key: string) => boolean {
  const shown = JSON.stringify(pattern);
  if (pattern.trim() === '') {
    throw new UsageError(`${flag} pattern ${shown} is empty`, {
      hint: `give a glob such as '**/*.csv', or leave out ${flag}`,
    });
  }
  if (pattern.startsWith('/')) {
    throw new UsageError(`${flag} pattern ${shown} starts with '/'`, {
      hint: `patterns are relative to the dataset prefix; write ${JSON.stringify(pattern.replace(/^\/+/, ''))}`,
    });
  }
  if (pattern.endsWith('/')) {
    throw new UsageError(`${flag} pattern ${shown} ends with '/' and can never match an object`, {
      hint: `for everything below that folder write ${JSON.stringify(`${pattern}**`)}`,
    });
  }
  try {
    // posix: picomatch 4.0.7 reads '[!a]' as its opposite without it (picomatch issue #187).
    // noextglob, nonegate and the escaped parentheses keep picomatch to the documented dialect: without them
    // '* (1).csv' matched 'x 1.csv' and not 'x (1).csv', 'a(b|c)' matched 'ab', '!x' everything but x.
    return picomatch(literalGroups(pattern), { dot: true, posix: true, noextglob: true, nonegate: true });
  } catch (error) {
    throw new UsageError(`${flag} pattern ${shown} is not a valid glob: ${(error as Error).message}`, {
      cause: error,
      hint: "see 'wharf fetch --help' for the pattern syntax",
    });
  }
}

/**
 * Escapes '(', ')' and '|', which picomatch reads as a regular-expression group and alternation even with
 * extglobs off; in Wharf's patterns they are ordinary characters of a name ('report (1).csv'). Characters the
 * user escaped already stay as they are.
 */
function literalGroups(pattern: string): string {
  return pattern.replace(/\\.|[()|]/gs, (found) => (found.length === 2 ? found : `\\${found}`));
}

/** A pattern that matches `key` and nothing else: the characters patterns give a meaning to, escaped. */
export function literalPattern(key: string): string {
  return key.replace(/[*?[\]{}\\]/g, (found) => `\\${found}`);
}
