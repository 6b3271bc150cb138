import { UsageError, ValidationError } from '../core/errors.js';
import { joinKey } from '../core/keys.js';
import { parseLocation } from '../core/location.js';
import { CSV_ENCODING_CHOICES, csvEncodingNamed, type CsvEncoding } from './csv-encoding.js';
import { DEFAULT_DATAMART_FOLDER, PEGA_DATAMART_PRESET, PEGA_DATAMART_TABLES } from './presets.js';
import { TABLE_FORMATS, type TableFormat } from './table-format.js';

/** A named table in `wharf.config.json` (`tables.define.NAME`). */
export interface TableDefinition {
  /** The folder of the table's files: a full location (`s3://bucket/prefix`, a local path), or a prefix under `from`. */
  prefix: string;
  /** Glob patterns relative to the prefix. Default: every readable file (see DEFAULT_TABLE_INCLUDE). */
  include?: string[];
  format?: TableFormat;
  /** Default for `--encoding`: what the table's CSV files that are not UTF-8 are in. */
  encoding?: CsvEncoding;
  /** Default for `--dedupe-on`. */
  dedupeOn?: string[];
}

/** The `tables` section of `wharf.config.json`. */
export interface TablesConfig {
  /** Base location for named tables whose prefix is relative, and for the `pega-datamart` preset. */
  from?: string;
  /** Folder under `from` holding the datamart tables. Default `datamart`. */
  datamartFolder?: string;
  define?: Record<string, TableDefinition>;
}

/** A table name or location resolved to what to fetch. */
export interface ResolvedTable {
  /** The table's name: the given name, or the last folder of a location. */
  name: string;
  /** The folder of its files, as a location (`s3://bucket/prefix/`, a local path). */
  source: string;
  include?: string[];
  format?: TableFormat;
  encoding?: CsvEncoding;
  dedupeOn?: string[];
  /** Where the name came from. */
  origin: 'location' | 'config' | typeof PEGA_DATAMART_PRESET;
}

export interface ResolveTableOptions {
  /** `--from`: overrides `config.from`. */
  from?: string | undefined;
  /** `--datamart-folder`: overrides `config.datamartFolder`. */
  datamartFolder?: string | undefined;
  config?: TablesConfig | undefined;
  /** Where the config came from, for messages. */
  configPath?: string | undefined;
}

/** True when the argument is a location rather than a table name. */
export function looksLikeLocation(value: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value) || /[/\\]/.test(value) || value.startsWith('.');
}

/**
 * Resolves `wharf table build NAME|SOURCE`: a location is used as it is; a name is looked up in the config's
 * `define`, then in the `pega-datamart` preset. Throws NotFound-style UsageError naming the known names.
 */
export function resolveTable(nameOrSource: string, options: ResolveTableOptions = {}): ResolvedTable {
  const from = options.from ?? options.config?.from;
  // A mistyped base (`s3:/bucket`) is named as given, not as the location joined under it.
  if (from !== undefined) parseLocation(from);
  if (looksLikeLocation(nameOrSource)) {
    const source =
      from !== undefined && !isAbsoluteLocation(nameOrSource) ? under(from, nameOrSource) : nameOrSource;
    return { name: lastSegment(source), source, origin: 'location' };
  }
  const defined = options.config?.define?.[nameOrSource];
  if (defined) {
    const source = isAbsoluteLocation(defined.prefix)
      ? defined.prefix
      : under(requireFrom(from, nameOrSource, defined.prefix), defined.prefix);
    return {
      name: nameOrSource,
      source,
      origin: 'config',
      ...(defined.include ? { include: defined.include } : {}),
      ...(defined.format ? { format: defined.format } : {}),
      ...(defined.encoding ? { encoding: defined.encoding } : {}),
      ...(defined.dedupeOn ? { dedupeOn: defined.dedupeOn } : {}),
    };
  }
  const folder = PEGA_DATAMART_TABLES[nameOrSource];
  if (folder !== undefined) {
    const datamart = options.datamartFolder ?? options.config?.datamartFolder ?? DEFAULT_DATAMART_FOLDER;
    const relative = joinKey(datamart, folder);
    const source = under(requireFrom(from, nameOrSource, relative), relative);
    return { name: nameOrSource, source: `${source}/`, origin: PEGA_DATAMART_PRESET };
  }
  const known = knownTableNames(options.config);
  throw new UsageError(`unknown table ${JSON.stringify(nameOrSource)}; known names: ${known.join(', ')}`, {
    hint: `give a location (s3://BUCKET/PREFIX) instead, or define the name in ${options.configPath ?? 'wharf.config.json'} under tables.define`,
  });
}

/** Every name `resolveTable` knows: the config's first, then the preset's. */
export function knownTableNames(config?: TablesConfig): string[] {
  const own = Object.keys(config?.define ?? {});
  return [...own, ...Object.keys(PEGA_DATAMART_TABLES).filter((n) => !own.includes(n))];
}

function requireFrom(from: string | undefined, name: string, relative: string): string {
  if (from === undefined) {
    throw new UsageError(`table ${JSON.stringify(name)} needs a base location: it lives under ${relative}/`, {
      hint: 'pass --from s3://BUCKET[/PREFIX] (or set tables.from in wharf.config.json)',
    });
  }
  return from;
}

function isAbsoluteLocation(value: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value) || value.startsWith('/') || value.startsWith('.');
}

/** `base` (a location) joined with a relative prefix. */
function under(base: string, relative: string): string {
  return `${base.replace(/\/+$/, '')}/${relative.replace(/^\/+/, '')}`;
}

function lastSegment(location: string): string {
  const parts = location
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  const last = parts[parts.length - 1] ?? 'table';
  return last.replace(/:$/, '') || 'table';
}

/**
 * Checks the `tables` section of a config file and returns it typed. `where` names the file in messages.
 * Throws ValidationError naming the field that is wrong.
 */
export function validateTablesConfig(raw: unknown, where: string): TablesConfig {
  const fail = (field: string, problem: string): never => {
    throw new ValidationError(`${where}: tables.${field} ${problem}`);
  };
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) return fail('', 'must be an object');
  const out: TablesConfig = {};
  for (const key of Object.keys(raw)) {
    if (!['from', 'datamartFolder', 'define'].includes(key)) {
      fail(key, 'is not a known setting (known: from, datamartFolder, define)');
    }
  }
  if (raw.from !== undefined) out.from = stringField(raw.from, 'from', fail);
  if (raw.datamartFolder !== undefined)
    out.datamartFolder = stringField(raw.datamartFolder, 'datamartFolder', fail);
  if (raw.define !== undefined) {
    if (!isObject(raw.define))
      return fail('define', 'must be an object mapping names to { prefix, include, format, encoding }');
    out.define = {};
    for (const [name, value] of Object.entries(raw.define)) {
      const at = `define.${name}`;
      if (looksLikeLocation(name) || name.trim() === '')
        fail(at, 'is not a usable table name (no slashes, not starting with .)');
      if (!isObject(value))
        return fail(at, 'must be an object { prefix, include?, format?, encoding?, dedupeOn? }');
      for (const key of Object.keys(value)) {
        if (!['prefix', 'include', 'format', 'encoding', 'dedupeOn'].includes(key)) {
          fail(`${at}.${key}`, 'is not a known setting (known: prefix, include, format, encoding, dedupeOn)');
        }
      }
      const def: TableDefinition = { prefix: stringField(value.prefix, `${at}.prefix`, fail) };
      if (value.include !== undefined) def.include = stringList(value.include, `${at}.include`, fail);
      if (value.dedupeOn !== undefined) def.dedupeOn = stringList(value.dedupeOn, `${at}.dedupeOn`, fail);
      if (value.format !== undefined) {
        if (!(TABLE_FORMATS as readonly unknown[]).includes(value.format)) {
          fail(`${at}.format`, `must be one of ${TABLE_FORMATS.join(', ')}`);
        }
        def.format = value.format as TableFormat;
      }
      if (value.encoding !== undefined) {
        const encoding = csvEncodingNamed(stringField(value.encoding, `${at}.encoding`, fail));
        if (encoding === undefined) fail(`${at}.encoding`, `must be one of ${CSV_ENCODING_CHOICES}`);
        else def.encoding = encoding;
      }
      out.define[name] = def;
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(value: unknown, field: string, fail: (f: string, p: string) => never): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(field, 'must be a non-empty string');
  return value;
}

function stringList(value: unknown, field: string, fail: (f: string, p: string) => never): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    return fail(field, 'must be a non-empty list of strings');
  }
  return value as string[];
}
