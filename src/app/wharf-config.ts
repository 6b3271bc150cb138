import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { validateTablesConfig, type TablesConfig } from '../tables/table-config.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

/** The project config file, looked up in the working directory. */
export const CONFIG_FILE_NAME = 'wharf.config.json';

/** What `wharf.config.json` holds. Sections belong to features; unknown top-level keys are refused. */
export interface WharfConfig {
  /** Where it was read from; undefined when there is no config file. */
  path?: string;
  tables?: TablesConfig;
}

const KNOWN_SECTIONS = ['$schema', 'tables'];

/**
 * Reads `wharf.config.json`: `explicitPath` (an error if missing), else the one in `cwd` (optional: no file
 * means an empty config). Throws ValidationError naming the file and the field that is wrong.
 */
export async function loadWharfConfig(
  options: { cwd?: string; explicitPath?: string } = {},
): Promise<WharfConfig> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, options.explicitPath ?? CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.explicitPath === undefined) return {};
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`config file ${path} does not exist`, { hint: 'check the --config path' });
    }
    throw new ValidationError(`cannot read config file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${jsonSyntaxReason(error)}`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError(`${path} must hold a JSON object, e.g. {"tables": {...}}`);
  }
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_SECTIONS.includes(key)) {
      throw new ValidationError(`${path}: unknown section ${JSON.stringify(key)} (known: tables)`);
    }
  }
  return { path, tables: validateTablesConfig(record.tables, path) };
}
