import { ValidationError } from '../core/errors.js';

/**
 * Where a run's Parquet objects go. A template with these placeholders:
 *
 * - `{table}`: the table's folder name (`orders`, or `sales.orders` outside the default schema)
 * - `{yyyy}` `{mm}` `{dd}`: the run's end time (the window's upper bound), UTC
 * - `{hhmmssffffff}`: hours, minutes, seconds and microseconds of that time, zero-padded
 * - `{part}`: empty for a run written as one object, `-0001`, `-0002`, ... when split by --max-file-size
 *
 * Every placeholder is required, `{table}` must come first and the time fields in order from the year down,
 * so that the lexical order of keys under `{table}/` is time order (the newest-key fallback relies on it).
 */
export const DEFAULT_LAYOUT = '{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}{part}.parquet';

const TOKENS = ['{table}', '{yyyy}', '{mm}', '{dd}', '{hhmmssffffff}', '{part}'] as const;

/** A UTC instant with microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the form watermarks are stored in). */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

export function isInstant(value: string): boolean {
  return INSTANT.test(value);
}

/** Throws ValidationError unless the template has every placeholder once, in an order that sorts by time. */
export function validateLayout(template: string): void {
  let last = -1;
  for (const token of TOKENS) {
    const at = template.indexOf(token);
    if (at < 0 || template.indexOf(token, at + 1) >= 0) {
      throw new ValidationError(
        `layout ${JSON.stringify(template)} must contain ${token} exactly once (placeholders: ${TOKENS.join(' ')})`,
      );
    }
    if (at < last) {
      throw new ValidationError(
        `layout ${JSON.stringify(template)}: placeholders must appear in the order ${TOKENS.join(' ')} so that key order is time order`,
      );
    }
    last = at;
  }
  if (!template.startsWith('{table}/')) {
    throw new ValidationError(`layout ${JSON.stringify(template)} must start with "{table}/"`);
  }
}

/**
 * The table's folder name in keys: `orders`, or `schema.orders` outside the default schema. Odd characters are
 * %-encoded in each part, a dot included, so that the table `"s.t"` and the table `t` of schema `s` never share
 * a folder (and a state).
 */
export function tableFolder(schema: string, table: string, defaultSchema = 'public'): string {
  const part = (name: string): string =>
    /^[A-Za-z0-9_-]+$/.test(name)
      ? name
      : // encodeURIComponent keeps . ! ~ * ' ( ): `a*` would be a glob that also reads the table `abc`.
        encodeURIComponent(name).replace(
          /[.!~*'()]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        );
  return schema === defaultSchema ? part(table) : `${part(schema)}.${part(table)}`;
}

/** Keys of one run: one key, or `count` numbered parts. */
export function runKeys(template: string, folder: string, instant: string, count: number): string[] {
  if (count <= 1) return [renderKey(template, folder, instant, '')];
  return Array.from({ length: count }, (_, i) =>
    renderKey(template, folder, instant, `-${String(i + 1).padStart(4, '0')}`),
  );
}

export function renderKey(template: string, folder: string, instant: string, part: string): string {
  const m = INSTANT.exec(instant);
  if (!m) throw new ValidationError(`not a UTC instant with microseconds: ${JSON.stringify(instant)}`);
  const [, yyyy, mm, dd, hh, mi, ss, us] = m as unknown as string[];
  return template
    .replace('{table}', folder)
    .replace('{yyyy}', yyyy ?? '')
    .replace('{mm}', mm ?? '')
    .replace('{dd}', dd ?? '')
    .replace('{hhmmssffffff}', `${hh}${mi}${ss}${us}`)
    .replace('{part}', part);
}

/** The folder every key of the table starts with (what the newest-key fallback lists). */
export function tablePrefix(template: string, folder: string): string {
  return template.slice(0, template.indexOf('{yyyy}')).replace('{table}', folder);
}

/** The run's instant a key encodes, or undefined if the key does not follow the template. */
export function instantOfKey(template: string, folder: string, key: string): string | undefined {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let pattern = '';
  let rest = template;
  const groups: Record<string, string> = {
    '{table}': escape(folder),
    '{yyyy}': '(\\d{4})',
    '{mm}': '(\\d{2})',
    '{dd}': '(\\d{2})',
    '{hhmmssffffff}': '(\\d{2})(\\d{2})(\\d{2})(\\d{6})',
    '{part}': '(?:-\\d{4,})?',
  };
  while (rest.length > 0) {
    const next = /\{(table|yyyy|mm|dd|hhmmssffffff|part)\}/.exec(rest);
    if (!next) {
      pattern += escape(rest);
      break;
    }
    pattern += escape(rest.slice(0, next.index)) + (groups[next[0]] ?? '');
    rest = rest.slice(next.index + next[0].length);
  }
  const m = new RegExp(`^${pattern}$`).exec(key);
  if (!m) return undefined;
  const [, yyyy, mm, dd, hh, mi, ss, us] = m;
  return `${yyyy}-${mm}-${dd}T${hh}:${mi}:${ss}.${us}Z`;
}
