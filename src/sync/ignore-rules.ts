import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ValidationError, toWharfError } from '../core/errors.js';

/** The file in the synced folder holding the team's ignore rules; it is synced like any other file. */
export const IGNORE_FILE_NAME = '.wharfignore';

/**
 * Patterns (gitignore syntax) that are always ignored: Wharf's own state folder and files operating systems
 * drop into folders. No `!` rule in a .wharfignore can bring them back.
 */
export const BUILT_IN_IGNORES: readonly string[] = [
  '.wharf/',
  '.DS_Store',
  '._*',
  '.Spotlight-V100/',
  '.Trashes/',
  '.fseventsd/',
  'Thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '~$*',
];

/**
 * Which paths of a synced folder are left out of the sync: the built-ins plus the folder's .wharfignore.
 * Paths are '/'-separated and relative to the folder. Like git, a file inside an ignored folder is ignored
 * whatever later rules say.
 */
export class IgnoreRules {
  /** Where the rules came from, for messages. */
  readonly source: string;
  // Case-insensitive: these names vary in case on the case-insensitive file systems that produce them.
  readonly #builtIn: Ignore = ignore({ ignorecase: true }).add(BUILT_IN_IGNORES);
  // Case-sensitive like git's default (and S3 keys), so every member's machine ignores the same paths.
  readonly #user: Ignore;

  private constructor(userRules: string, source: string) {
    this.source = source;
    this.#user = compileUserRules(userRules, source);
  }

  /** Rules of the folder `dir`: its .wharfignore if there is one, plus the built-ins. */
  static async load(dir: string): Promise<IgnoreRules> {
    const file = join(dir, IGNORE_FILE_NAME);
    const text = await readOptionalText(file);
    return text === undefined
      ? new IgnoreRules('', `built-in rules (no ${IGNORE_FILE_NAME})`)
      : new IgnoreRules(text, file);
  }

  /** Rules from .wharfignore text (plus the built-ins). */
  static fromText(text: string, source = `${IGNORE_FILE_NAME} text`): IgnoreRules {
    return new IgnoreRules(text, source);
  }

  /** Whether the file at relative path `path` is ignored. */
  ignores(path: string): boolean {
    return this.#builtIn.ignores(path) || this.#user.ignores(path);
  }

  /** Whether the folder at relative path `path` is ignored, and so everything below it. */
  ignoresDir(path: string): boolean {
    const asDir = `${path}/`;
    return this.#builtIn.ignores(asDir) || this.#user.ignores(asDir);
  }
}

function compileUserRules(text: string, source: string): Ignore {
  try {
    return ignore({ ignorecase: false }).add(text);
  } catch (error) {
    throw new ValidationError(`cannot read the ignore rules in ${source}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toWharfError(error, `reading ${file}`);
  }
}
