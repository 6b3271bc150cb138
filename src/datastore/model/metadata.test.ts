import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { datasetMetadataJsonSchema, datastoreJsonSchemas } from './json-schema.js';
import { collectionFormatSchema } from './metadata.js';
import { FieldValidationError, parseOrThrow, validateWith, type FieldIssue } from './validation.js';

const check = () => ({ relevant: false, obtained: false });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are mutated freely to break rules
function valid(): Record<string, any> {
  return {
    associations: {
      organisationId: '10378.1/1',
      dataCustodianId: '10378.1/2',
      pointOfContact: 'data@example.org',
    },
    approvals: {
      ethicsRegistration: check(),
      ethicsAccess: check(),
      indigenousKnowledge: check(),
      exportControls: check(),
    },
    datasetInfo: {
      name: 'Ocean temperature',
      description: 'Daily sea surface temperature',
      accessInfo: { reposited: true },
      publisherId: '10378.1/1',
      createdDate: { relevant: true, value: '2024-02-29' },
      publishedDate: { relevant: false },
      license: 'https://creativecommons.org/licenses/by/4.0/',
      spatialInfo: {
        coverage: 'SRID=4326;POINT(145 -37)',
        resolution: '0.01',
        extent: 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))',
      },
      temporalInfo: { duration: { beginDate: '2020-01-01', endDate: '2020-12-31' }, resolution: 'P1D' },
      formats: ['csv'],
      keywords: ['ocean', 'temperature'],
      userMetadata: { project: 'reef' },
    },
  };
}

function issuesOf(input: unknown): FieldIssue[] {
  const r = validateWith(collectionFormatSchema, input);
  return r.ok ? [] : r.issues;
}

function expectIssue(input: unknown, path: string, message: string | RegExp): void {
  const issues = issuesOf(input);
  expect(issues.map((i) => i.path)).toContain(path);
  const issue = issues.find((i) => i.path === path)!;
  if (typeof message === 'string') expect(issue.message).toBe(message);
  else expect(issue.message).toMatch(message);
}

describe('dataset metadata (CollectionFormat)', () => {
  it('accepts a complete record and a minimal one, filling defaults', () => {
    expect(issuesOf(valid())).toEqual([]);
    const minimal = valid();
    delete minimal.associations.dataCustodianId;
    delete minimal.associations.pointOfContact;
    for (const k of ['spatialInfo', 'temporalInfo', 'formats', 'keywords', 'userMetadata'])
      delete minimal.datasetInfo[k];
    const r = validateWith(collectionFormatSchema, minimal);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.datasetInfo.formats).toEqual([]);
      expect(r.value.datasetInfo.keywords).toEqual([]);
      expect(r.value.datasetInfo.userMetadata).toEqual({});
    }
  });

  it('refuses extra fields at every level, naming each', () => {
    const m = valid();
    m.extra = 1;
    m.associations.nickname = 'x';
    m.datasetInfo.accessInfo.bucket = 'b';
    m.approvals.exportControls.permit = 'p';
    const paths = issuesOf(m).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'extra',
        'associations.nickname',
        'datasetInfo.accessInfo.bucket',
        'approvals.exportControls.permit',
      ]),
    );
    expect(issuesOf(m).find((i) => i.path === 'extra')?.message).toBe('unknown field (remove it)');
  });

  it('refuses empty and blank strings everywhere, including list items and user metadata keys and values', () => {
    const m = valid();
    m.datasetInfo.name = '';
    m.associations.pointOfContact = '';
    m.datasetInfo.keywords = ['ok', ' '];
    m.datasetInfo.formats = [''];
    m.datasetInfo.purpose = ' \t\n';
    m.datasetInfo.userMetadata = { '': 'v', 'my key': '' };
    const issues = issuesOf(m);
    for (const path of [
      'datasetInfo.name',
      'associations.pointOfContact',
      'datasetInfo.keywords[1]',
      'datasetInfo.formats[0]',
      'datasetInfo.purpose',
      'datasetInfo.userMetadata["my key"]',
    ]) {
      expect(issues.find((i) => i.path === path)?.message).toBe('must not be empty or blank');
    }
    expect(issues.find((i) => i.path === 'datasetInfo.userMetadata[""]')?.message).toBe(
      'key must not be empty or blank',
    );
    expect(issues).toHaveLength(7);
  });

  it('refuses U+0000 in any string or key, as the JSON Schema does', () => {
    const m = valid();
    m.datasetInfo.name = 'a\u0000b';
    m.datasetInfo.keywords = ['ok', 'k\u0000'];
    m.datasetInfo.userMetadata = { 'k\u0000ey': 'v', fine: '\u0000' };
    expect(issuesOf(m)).toEqual([
      { path: 'datasetInfo.keywords[1]', message: 'must not contain the NUL character (U+0000)' },
      { path: 'datasetInfo.name', message: 'must not contain the NUL character (U+0000)' },
      { path: 'datasetInfo.userMetadata.fine', message: 'must not contain the NUL character (U+0000)' },
      {
        path: 'datasetInfo.userMetadata["k\\u0000ey"]',
        message: 'key must not contain the NUL character (U+0000)',
      },
    ]);
    // A value the schema would accept otherwise is refused all the same (one rule for every input).
    expect(validateWith(z.string(), 'x\u0000').ok).toBe(false);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a JSON document
    const schema = datasetMetadataJsonSchema() as any;
    expect(schema.properties.datasetInfo.properties.name.not).toEqual({ pattern: '\\u0000' });
  });

  it('bounds text lengths and list sizes, so that the search index and sort indexes can hold every record', () => {
    const m = valid();
    m.datasetInfo.name = 'n'.repeat(501);
    m.datasetInfo.description = 'word '.repeat(20_001);
    m.datasetInfo.keywords = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    m.datasetInfo.formats = ['f'.repeat(501)];
    expect(issuesOf(m)).toEqual([
      { path: 'datasetInfo.description', message: 'must be at most 100,000 characters' },
      { path: 'datasetInfo.formats[0]', message: 'must be at most 500 characters' },
      { path: 'datasetInfo.keywords', message: 'must have at most 1,000 entries' },
      { path: 'datasetInfo.name', message: 'must be at most 500 characters' },
    ]);
    m.datasetInfo.name = 'n'.repeat(500);
    m.datasetInfo.description = 'd'.repeat(100_000);
    m.datasetInfo.keywords = ['k'.repeat(500)];
    m.datasetInfo.formats = ['csv'];
    expect(issuesOf(m)).toEqual([]);
  });

  it('reports missing required fields as "required", all at once', () => {
    const m = valid();
    delete m.associations.organisationId;
    delete m.datasetInfo.license;
    delete m.approvals.ethicsAccess;
    delete m.datasetInfo.createdDate.relevant;
    const issues = issuesOf(m);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'associations.organisationId', message: 'required' },
        { path: 'datasetInfo.license', message: 'required' },
        { path: 'approvals.ethicsAccess', message: 'required' },
        { path: 'datasetInfo.createdDate.relevant', message: 'required' },
      ]),
    );
  });

  it('requires a date value iff relevant', () => {
    const m = valid();
    m.datasetInfo.createdDate = { relevant: true };
    m.datasetInfo.publishedDate = { relevant: false, value: '2024-01-01' };
    expectIssue(m, 'datasetInfo.createdDate.value', 'required when relevant is true');
    expectIssue(m, 'datasetInfo.publishedDate.value', 'must be absent when relevant is false');
    const ok = valid();
    ok.datasetInfo.publishedDate = { relevant: true, value: '2024-03-01' };
    expect(issuesOf(ok)).toEqual([]);
  });

  it('requires dates as real YYYY-MM-DD dates', () => {
    const m = valid();
    m.datasetInfo.createdDate = { relevant: true, value: '2023-02-29' };
    expectIssue(m, 'datasetInfo.createdDate.value', /YYYY-MM-DD/);
    m.datasetInfo.createdDate = { relevant: true, value: '12/01/2024' };
    expectIssue(m, 'datasetInfo.createdDate.value', /YYYY-MM-DD/);
    // A well-formed date that does not exist is told apart from a malformed one by the words, not only the form.
    m.datasetInfo.createdDate = { relevant: true, value: '2024-02-30' };
    expectIssue(m, 'datasetInfo.createdDate.value', 'must be a real date as YYYY-MM-DD, e.g. 2024-05-01');
  });

  it('requires uri and description iff not reposited', () => {
    const m = valid();
    m.datasetInfo.accessInfo = { reposited: false };
    expectIssue(m, 'datasetInfo.accessInfo.uri', 'required when reposited is false');
    expectIssue(m, 'datasetInfo.accessInfo.description', 'required when reposited is false');
    m.datasetInfo.accessInfo = { reposited: true, uri: 'https://example.org/d', description: 'elsewhere' };
    expectIssue(m, 'datasetInfo.accessInfo.uri', /must be absent when reposited is true/);
    expectIssue(m, 'datasetInfo.accessInfo.description', /must be absent when reposited is true/);
    m.datasetInfo.accessInfo = { reposited: false, uri: 'not a uri', description: 'x' };
    expectIssue(m, 'datasetInfo.accessInfo.uri', /absolute URI/);
    m.datasetInfo.accessInfo = {
      reposited: false,
      uri: 'https://example.org/d',
      description: 'on the portal',
    };
    expect(issuesOf(m)).toEqual([]);
  });

  it('requires begin date ≤ end date', () => {
    const m = valid();
    m.datasetInfo.temporalInfo.duration = { beginDate: '2021-01-02', endDate: '2021-01-01' };
    expectIssue(m, 'datasetInfo.temporalInfo.duration.endDate', 'must not be before beginDate (2021-01-02)');
    m.datasetInfo.temporalInfo.duration = { beginDate: '2021-01-01', endDate: '2021-01-01' };
    expect(issuesOf(m)).toEqual([]);
    m.datasetInfo.temporalInfo.duration = { beginDate: '2021-01-01' };
    expectIssue(m, 'datasetInfo.temporalInfo.duration.endDate', 'required');
    // An invalid date is one problem: no order is claimed against it (nor for the valid end date).
    for (const duration of [
      { beginDate: '2021-13-01', endDate: '2021-05-01' },
      { beginDate: '2021-05-01', endDate: '2021-02-30' },
    ]) {
      m.datasetInfo.temporalInfo.duration = duration;
      expect(issuesOf(m).map((i) => i.path)).toEqual([
        `datasetInfo.temporalInfo.duration.${duration.beginDate === '2021-05-01' ? 'endDate' : 'beginDate'}`,
      ]);
    }
  });

  it('requires the licence to be an http(s) URL', () => {
    for (const license of ['CC-BY-4.0', 'ftp://example.org/licence', '']) {
      const m = valid();
      m.datasetInfo.license = license;
      expect(issuesOf(m).map((i) => i.path)).toContain('datasetInfo.license');
    }
  });

  it('checks spatial resolution (positive decimal degrees) and temporal resolution (ISO 8601 duration)', () => {
    const m = valid();
    m.datasetInfo.spatialInfo.resolution = '-1';
    m.datasetInfo.temporalInfo.resolution = 'daily';
    expectIssue(m, 'datasetInfo.spatialInfo.resolution', /positive decimal/);
    expectIssue(m, 'datasetInfo.temporalInfo.resolution', /ISO 8601 duration/);
    for (const ok of ['P1Y2M10DT2H30M', 'PT15M', 'P2W', 'P1D']) {
      const n = valid();
      n.datasetInfo.temporalInfo.resolution = ok;
      expect(issuesOf(n)).toEqual([]);
    }
    for (const bad of ['P', 'PT', '1D', 'P1H']) {
      const n = valid();
      n.datasetInfo.temporalInfo.resolution = bad;
      expect(issuesOf(n).map((i) => i.path)).toContain('datasetInfo.temporalInfo.resolution');
    }
  });

  it('names wrong types', () => {
    const m = valid();
    m.approvals.exportControls.relevant = 'yes';
    m.datasetInfo.keywords = 'ocean';
    m.datasetInfo.userMetadata = { n: 1 };
    expectIssue(m, 'approvals.exportControls.relevant', 'must be a boolean, not a string');
    expectIssue(m, 'datasetInfo.keywords', 'must be an array, not a string');
    expectIssue(m, 'datasetInfo.userMetadata.n', 'must be a string, not a number');
  });

  it('throws one FieldValidationError listing every failing field path', () => {
    const m = valid();
    m.datasetInfo.createdDate = { relevant: true };
    m.datasetInfo.name = '';
    try {
      parseOrThrow(collectionFormatSchema, m, 'dataset metadata');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FieldValidationError);
      const e = error as FieldValidationError;
      expect(e.code).toBe('VALIDATION');
      expect(e.issues).toHaveLength(2);
      expect(e.message).toContain('datasetInfo.createdDate.value: required when relevant is true');
      expect(e.message).toContain('datasetInfo.name: must not be empty');
    }
  });

  it('exports JSON Schema 2020-12 that forbids extra fields and lists the required ones', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a JSON document
    const schema = datasetMetadataJsonSchema() as any;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['associations', 'approvals', 'datasetInfo']);
    const info = schema.properties.datasetInfo;
    expect(info.additionalProperties).toBe(false);
    expect(info.required).toContain('license');
    expect(info.required).not.toContain('keywords');
    expect(info.properties.license.format).toBe('uri');
    expect(info.properties.name.minLength).toBe(1);
    expect(info.properties.name.maxLength).toBe(500);
    expect(info.properties.description.maxLength).toBe(100_000);
    expect(info.properties.name.pattern).toBe('\\S');
    expect(Object.keys(datastoreJsonSchemas())).toEqual(
      expect.arrayContaining([
        'DatasetMetadata',
        'Organisation',
        'Person',
        'ListDatasetsQuery',
        'SearchDatasetsQuery',
      ]),
    );
  });
});
