import { ValidationError, type WharfErrorOptions } from './errors.js';

/** One failing field: a dotted path (`datasetInfo.createdDate.value`, `datasetInfo.keywords[2]`) and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** A ValidationError that lists every failing field; `message` names them all, one per line after the first. */
export class FieldValidationError extends ValidationError {
  readonly issues: readonly FieldIssue[];
  constructor(what: string, issues: readonly FieldIssue[], options?: WharfErrorOptions) {
    super(
      `${what} ${/parameters$/.test(what) ? 'are' : 'is'} invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'),
      { hint: 'fix the fields listed and send it again', ...options },
    );
    this.issues = issues;
  }
}
