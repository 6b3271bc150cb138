import type { WharfError } from '../core/errors.js';
import { FieldValidationError, type FieldIssue } from '../core/field-validation-error.js';

/**
 * The datastore's messages and hints speak its HTTP API and SDK (routes, operation ids, query parameters): the
 * CLI says the same in its own commands and options. Applied to every error the CLI prints (the phrases occur
 * only in datastore errors); unknown phrases pass through unchanged.
 */
const LOGIN_HINT =
  'log in with `wharf login URL --token TOKEN` (a sys-admin creates your first token), or set WHARF_TOKEN';

const PHRASES: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  [/send Authorization: Bearer <token> \(wharf token create\)/, LOGIN_HINT],
  [/send an API token \(wharf token create\)/, 'use an API token (`wharf login URL --token TOKEN`)'],
  // The hint says how to log in (LOGIN_HINT): the message only says what is missing.
  [/; send an API token$/, '; no API token was given'],
  [
    /check the id, e\.g\. with (GET \/datasets or \/datasets\/search|listDatasets or searchDatasets)/,
    'check the id, e.g. with `wharf dataset list` or `wharf dataset search`',
  ],
  [/create a new version \(versionDataset\)/, 'create a new version (`wharf dataset version ID`)'],
  [/list them with listDatasetFiles/, 'list them with `wharf dataset files ID`'],
  [
    /pass the same sortBy, ascending, releaseStatus and approver as for the first page, or start again without paginationKey/,
    'pass the same --sort, --asc, --release-status and --approver as for the first page, or start again without --page-key',
  ],
  [
    /pass the same approver as for the first page, or start again without paginationKey/,
    'pass the same --approver as for the first page (none for your own queue), or start again without --page-key',
  ],
  [
    /pass the paginationKey of the previous page unchanged, or start again without it/,
    'pass the page key printed for the previous page unchanged, or start again without --page-key',
  ],
  [/start again without paginationKey/, 'start again without --page-key'],
  [/^paginationKey /, 'the --page-key '],
  [
    /ask an admin to add them \(addDatasetReviewer\)/,
    'ask a sys-admin to add them (`wharf reviewer add USER`)',
  ],
  [
    /change the metadata with PUT \/datasets\/\{prefix\}\/\{number\}\/metadata/,
    'change the metadata with `wharf dataset update ID FILE`',
  ],
  [
    /ask for a new presigned URL \(POST \/datasets\/\{prefix\}\/\{number\}\/presign\)/,
    'ask for a new URL with `wharf dataset presign`',
  ],
  [/POST \/datasets\/\{prefix\}\/\{number\}\/credentials/, '`wharf dataset credentials ID`'],
  // An STS refusal of the session length (the role's maximum is below what was asked for).
  [/ for durationSeconds (\d+):/, (_, n: string) => ` for --duration ${formatDuration(Number(n))}:`],
  [
    /shorter durationSeconds \(default (\d+)\)/,
    (_, n: string) => `shorter --duration (default ${formatDuration(Number(n))})`,
  ],
];

interface CliName {
  name: string;
  /** A duration option: the API's bounds in seconds are shown as durations (`24h`). */
  seconds?: true;
}

/** Query, body and path fields the CLI sets from its options and arguments, by the part of the request. */
const OPTIONS: Record<string, Record<string, CliName>> = {
  'query parameters': {
    sortBy: { name: '--sort' },
    ascending: { name: '--asc' },
    pageSize: { name: '--page-size' },
    paginationKey: { name: '--page-key' },
    releaseStatus: { name: '--release-status' },
    approver: { name: '--approver' },
    limit: { name: '--limit' },
    query: { name: 'QUERY' },
  },
  'request body': {
    expiresIn: { name: '--expires-in', seconds: true },
    durationSeconds: { name: '--duration', seconds: true },
    approver: { name: '--approver' },
    notes: { name: '--notes' },
    username: { name: '--user' },
  },
  'path parameters': {
    username: { name: 'USER' },
    tokenId: { name: 'TOKEN-ID' },
  },
};

/** How the API names the parts of a request the CLI's options and arguments fill (a metadata file is not one). */
const REQUEST_PART = /^(query parameters|request body|path parameters) (?:is|are) invalid \(/;

function rewrite(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PHRASES)
    out =
      typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  return out;
}

/** `expiresIn: must be at most 86,400` → `--expires-in: must be at most 24h`. */
function optionIssue(issue: FieldIssue, names: Record<string, CliName>): string {
  const option = names[issue.path];
  if (!option) return `${issue.path}: ${rewrite(issue.message)}`;
  const message = option.seconds
    ? issue.message.replace(
        /^(must be (?:at least|at most|more than|less than)) ([\d,]+)$/,
        (_, bound: string, n: string) => `${bound} ${formatDuration(Number(n.replaceAll(',', '')))}`,
      )
    : issue.message;
  return `${option.name}: ${rewrite(message)}`;
}

/** Whole seconds as the CLI's duration options take them: `24h`, `15m`, `1h30m`, `1m30s`. */
function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join('');
}

/** Puts `error`'s message and hint in the CLI's words (in place: the CLI is about to print it) and returns it. */
export function inCliTerms(error: WharfError): WharfError {
  const writable = error as { message: string; hint: string | undefined };
  const part = error instanceof FieldValidationError ? REQUEST_PART.exec(error.message)?.[1] : undefined;
  if (part !== undefined) {
    // Options and arguments the user typed: one line per problem, named as the CLI names them.
    const lines = (error as FieldValidationError).issues.map((i) => optionIssue(i, OPTIONS[part]!));
    if (lines.length === 1) {
      writable.message = lines[0]!;
      writable.hint = undefined;
    } else {
      writable.message = `the options are invalid (${lines.length} problems):\n${lines.map((l) => `  ${l}`).join('\n')}`;
    }
    return error;
  }
  writable.message = rewrite(error.message);
  if (error.hint !== undefined) writable.hint = rewrite(error.hint);
  return error;
}
