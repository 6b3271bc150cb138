import type { z } from 'zod';
import { FieldValidationError, type FieldIssue } from '../../core/field-validation-error.js';

// Defined in core so that the CLI prints them without loading the datastore (cli/cli-terms.ts).
export { FieldValidationError, type FieldIssue };

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** `a.b[2].c` from a zod path; a key that is not a plain name is quoted: `userMetadata["my key"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && !/^[A-Za-z_$][\w$]*$/.test(part)) out += `[${JSON.stringify(part)}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Validates `input` against `schema` and returns every failing field (never only the first). Messages are
 * short and say what is needed: `required`, `must not be empty`, `unknown field (remove it)`, ...
 */
export function validateWith<S extends z.ZodType>(schema: S, input: unknown): ValidationResult<z.output<S>> {
  const nul = unstorableStringIssues(input);
  const result = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
      if (issue.code === 'invalid_type' && issue.expected === 'int') return 'must be a whole number';
      if (issue.code === 'invalid_type')
        return `must be ${article(issue.expected)}, not ${describe(issue.input)}`;
      if (issue.code === 'too_small' || issue.code === 'too_big') return boundMessage(issue);
      if (issue.code === 'invalid_value' && issue.values.length > 0)
        return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return undefined;
    },
  });
  if (result.success && nul.length === 0) return { ok: true, value: result.data };
  const issues: FieldIssue[] = [...nul];
  for (const issue of result.error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: formatPath([...issue.path, key]), message: 'unknown field (remove it)' });
      }
    } else if (issue.code === 'invalid_key') {
      // A record key that breaks its rule (an empty userMetadata key): say what the key rule says.
      issues.push({
        path: formatPath(issue.path),
        message: `key ${issue.issues[0]?.message ?? 'is invalid'}`,
      });
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  issues.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // Two checks of one field may say the same thing (an empty string is both too short and blank).
  const unique = issues.filter(
    (issue, i) => i === 0 || issue.path !== issues[i - 1]?.path || issue.message !== issues[i - 1]?.message,
  );
  return { ok: false, issues: unique };
}

/** The one rule for every string a client sends, values and keys alike (PostgreSQL text cannot hold U+0000). */
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** Nor can PostgreSQL's jsonb hold half of a UTF-16 surrogate pair (JSON may spell one as `\ud800`). */
export const LONE_SURROGATE_MESSAGE =
  'must not contain an unpaired UTF-16 surrogate (\\ud800–\\udfff alone is not a character)';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(text: string): string | undefined {
  if (text.includes('\u0000')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(text)) return LONE_SURROGATE_MESSAGE;
  return undefined;
}

/**
 * Every string (and object key) in `input` that PostgreSQL cannot store — one with U+0000 or an unpaired
 * surrogate — by path. Walks with its own stack: a request body may nest deeper than the call stack allows.
 */
export function unstorableStringIssues(input: unknown): FieldIssue[] {
  // A path is kept as a chain of (parent, key) links and spelled out only for a string that fails.
  interface Step {
    value: unknown;
    parent: Step | undefined;
    key: PropertyKey | undefined;
  }
  const pathOf = (step: Step | undefined, last?: PropertyKey): PropertyKey[] => {
    const path: PropertyKey[] = last === undefined ? [] : [last];
    for (let s = step; s?.parent !== undefined; s = s.parent) path.push(s.key!);
    return path.reverse();
  };
  const issues: FieldIssue[] = [];
  const seen = new Set<object>();
  const stack: Step[] = [{ value: input, parent: undefined, key: undefined }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    const { value } = step;
    if (typeof value === 'string') {
      const message = unstorable(value);
      if (message) issues.push({ path: formatPath(pathOf(step)), message });
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, parent: step, key: i }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const message = unstorable(key);
      if (message) issues.push({ path: formatPath(pathOf(step, key)), message: `key ${message}` });
      stack.push({ value: item, parent: step, key });
    }
  }
  return issues;
}

/** Like `validateWith` but throws FieldValidationError naming `what` and every failing field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = validateWith(schema, input);
  if (!result.ok) throw new FieldValidationError(what, result.issues);
  return result.value;
}

/** `must be at least 1`, `must be at most 500 characters`, `must have at least 1 entry`, … */
function boundMessage(issue: {
  code: 'too_small' | 'too_big';
  origin: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
}): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const limit =
    issue.inclusive === false ? (small ? 'more than' : 'less than') : small ? 'at least' : 'at most';
  const count = bound.toLocaleString('en');
  if (issue.origin === 'string') return `must be ${limit} ${count} character${bound === 1 ? '' : 's'}`;
  if (issue.origin === 'array' || issue.origin === 'set')
    return `must have ${limit} ${count} entr${bound === 1 ? 'y' : 'ies'}`;
  return `must be ${limit} ${count}`;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A schema-level message for format problems that leaves type problems (including a missing value, which
 * validateWith reports as `required`) to the generic wording.
 */
export function onlyFormat(message: string): { error: (issue: { code: string }) => string | undefined } {
  return { error: (issue) => (issue.code === 'invalid_type' ? undefined : message) };
}
