import type { WharfError } from '../core/errors.js';

/**
 * The datastore's messages and hints speak its HTTP API and SDK (routes, operation ids, query parameters): the
 * CLI says the same in its own commands and options. Applied to every error the CLI prints (the phrases occur
 * only in datastore errors); unknown phrases pass through unchanged.
 */
const LOGIN_HINT =
  'log in with `wharf login URL --token TOKEN` (a sys-admin creates your first token), or set WHARF_TOKEN';

const PHRASES: [RegExp, string][] = [
  [/send Authorization: Bearer <token> \(wharf token create\)/, LOGIN_HINT],
  [/send an API token \(wharf token create\)/, 'use an API token (`wharf login URL --token TOKEN`)'],
  // The hint says how to log in (LOGIN_HINT): the message only says what is missing.
  [/; send an API token$/, '; no API token was given'],
  [
    /check the id, e\.g\. with (GET \/datasets or \/datasets\/search|listDatasets or searchDatasets)/,
    'check the id, e.g. with `wharf dataset list` or `wharf dataset search`',
  ],
  [/create a new version \(versionDataset\)/, 'create a new version (`wharf dataset version ID`)'],
  [
    /pass the same sortBy, ascending, releaseStatus and approver as for the first page, or start again without paginationKey/,
    'pass the same --sort, --asc, --release-status and --approver as for the first page, or start again without --page-key',
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
  [/^query parameters is invalid/, 'the options are invalid'],
];

/** Issue paths of query parameters, as the CLI's options. */
const OPTIONS: Record<string, string> = {
  sortBy: '--sort',
  ascending: '--asc',
  pageSize: '--page-size',
  paginationKey: '--page-key',
  releaseStatus: '--release-status',
  approver: '--approver',
  limit: '--limit',
  query: 'QUERY',
};

function rewrite(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PHRASES) out = out.replace(pattern, replacement);
  if (out !== text && out.startsWith('the options are invalid')) {
    out = out.replace(/^ {2}(\w+):/gm, (line, name: string) =>
      OPTIONS[name] ? `  ${OPTIONS[name]}:` : line,
    );
  }
  return out;
}

/** Puts `error`'s message and hint in the CLI's words (in place: the CLI is about to print it) and returns it. */
export function inCliTerms(error: WharfError): WharfError {
  const writable = error as { message: string; hint: string | undefined };
  writable.message = rewrite(error.message);
  if (error.hint !== undefined) writable.hint = rewrite(error.hint);
  return error;
}
