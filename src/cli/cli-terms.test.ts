import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { FieldValidationError } from '../datastore/model/validation.js';
import { inCliTerms } from './cli-terms.js';

describe('inCliTerms', () => {
  it("turns the datastore's API and SDK words into the CLI's commands and options", () => {
    const unauthenticated = inCliTerms(
      new AccessDeniedError('this call needs an API token', {
        hint: 'send Authorization: Bearer <token> (wharf token create)',
      }),
    );
    expect(unauthenticated.hint).toMatch(/^log in with `wharf login URL --token TOKEN`.*or set WHARF_TOKEN$/);
    expect(unauthenticated).toBeInstanceOf(AccessDeniedError);
    expect(unauthenticated.code).toBe('ACCESS_DENIED');
    // A dataset route's 401: the instruction to log in is printed once (in the hint), not twice.
    const anonymous = inCliTerms(
      new AccessDeniedError('dataset 10378.1/3 needs the metadata-read role; send an API token', {
        hint: 'send Authorization: Bearer <token> (wharf token create)',
      }),
    );
    expect(anonymous.message).toBe('dataset 10378.1/3 needs the metadata-read role; no API token was given');
    expect(`${anonymous.message} (${anonymous.hint!})`.match(/wharf login/g)).toHaveLength(1);

    expect(
      inCliTerms(
        new NotFoundError('x', { hint: 'check the id, e.g. with GET /datasets or /datasets/search' }),
      ).hint,
    ).toBe('check the id, e.g. with `wharf dataset list` or `wharf dataset search`');
    expect(
      inCliTerms(
        new ConflictError('frozen', {
          hint: 'wait for the review to finish (a rejection reopens it), or create a new version (versionDataset)',
        }),
      ).hint,
    ).toBe(
      'wait for the review to finish (a rejection reopens it), or create a new version (`wharf dataset version ID`)',
    );
    const pageKey = inCliTerms(
      new ValidationError('paginationKey belongs to a listing with another sort order or filter', {
        hint: 'pass the same sortBy, ascending, releaseStatus and approver as for the first page, or start again without paginationKey',
      }),
    );
    expect(pageKey.message).toBe('the --page-key belongs to a listing with another sort order or filter');
    expect(pageKey.hint).toBe(
      'pass the same --sort, --asc, --release-status and --approver as for the first page, or start again without --page-key',
    );
  });

  it('says "are invalid" of parameters and "is invalid" of a body', () => {
    const issue = [{ path: 'pageSize', message: 'no' }];
    expect(new FieldValidationError('query parameters', issue).message).toMatch(
      /^query parameters are invalid \(1 problem\)/,
    );
    expect(new FieldValidationError('request body', issue).message).toMatch(
      /^request body is invalid \(1 problem\)/,
    );
  });

  it('names the options of invalid query parameters; other messages pass unchanged', () => {
    const invalid = inCliTerms(
      new FieldValidationError('query parameters', [
        { path: 'pageSize', message: 'Too big: expected number to be <=1000' },
        { path: 'other', message: 'x' },
      ]),
    );
    expect(invalid.message).toBe(
      'the options are invalid (2 problems):\n  --page-size: Too big: expected number to be <=1000\n  other: x',
    );
    // One problem with a body field or path argument: one line, the option's name and its units.
    const expires = inCliTerms(
      new FieldValidationError('request body', [{ path: 'expiresIn', message: 'must be at most 86,400' }]),
    );
    expect([expires.message, expires.hint]).toEqual(['--expires-in: must be at most 24h', undefined]);
    const duration = inCliTerms(
      new FieldValidationError('request body', [
        { path: 'durationSeconds', message: 'must be at least 900' },
      ]),
    );
    expect(duration.message).toBe('--duration: must be at least 15m');
    const credentials = inCliTerms(
      new FieldValidationError('request body', [
        { path: 'durationSeconds', message: 'must be at most 43,200' },
      ]),
    );
    expect(credentials.message).toBe('--duration: must be at most 12h');
    const user = inCliTerms(
      new FieldValidationError('path parameters', [
        { path: 'username', message: 'must be a user name (letters, digits, . _ @ -)' },
      ]),
    );
    expect(user.message).toBe('USER: must be a user name (letters, digits, . _ @ -)');
    // The STS refusal of a session longer than the role allows names the option and its units too.
    const sts = inCliTerms(
      new ValidationError(
        "STS AssumeRole of arn:aws:iam:::role/r at http://s3 failed for durationSeconds 7200: probably above the role's maximum session duration — Unknown (HTTP 400)",
        { hint: 'ask for a shorter durationSeconds (default 3600)' },
      ),
    );
    expect([sts.message, sts.hint]).toEqual([
      "STS AssumeRole of arn:aws:iam:::role/r at http://s3 failed for --duration 2h: probably above the role's maximum session duration — Unknown (HTTP 400)",
      'ask for a shorter --duration (default 1h)',
    ]);
    const plain = new ValidationError('metadata is invalid (1 problem):\n  pageSize: no', { hint: 'fix it' });
    expect(inCliTerms(plain).message).toBe('metadata is invalid (1 problem):\n  pageSize: no');
    expect(plain.hint).toBe('fix it');
  });
});
