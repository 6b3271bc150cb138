import { z } from 'zod';
import { onlyFormat } from './validation.js';

/**
 * Dataset metadata: Provena's `CollectionFormat` in camelCase, with Provena's rules. Every object is strict
 * (unknown fields are refused), every string must be non-empty, and cross-field rules (a date `value` iff
 * `relevant`, access `uri` + `description` iff not reposited, begin ≤ end) are checked with the failing
 * field's path so that a caller can point at it.
 */

/**
 * Most characters of a free-text field: a long description fits, and the search index (a tsvector holds at
 * most 1 MB) and the request body limit stay out of reach.
 */
export const LONG_TEXT = 100_000;
/** Most characters of a name, keyword or key: names are kept in sort indexes (a btree entry holds ~2,700 bytes). */
export const SHORT_TEXT = 500;

/** A string with a visible character (Provena: `min_anystr_length = 1`; blanks count as empty) of at most `max`. */
export const text = (description?: string, max = LONG_TEXT) => {
  const schema = z
    .string()
    .min(1, onlyFormat('must not be empty or blank'))
    .regex(/\S/, onlyFormat('must not be empty or blank'))
    .max(max, onlyFormat(`must be at most ${max.toLocaleString('en')} characters`));
  return description ? schema.describe(description) : schema;
};

/** A calendar date, `YYYY-MM-DD`. */
const isoDate = (description: string) =>
  z.iso.date(onlyFormat('must be a real date as YYYY-MM-DD, e.g. 2024-05-01')).describe(description);

/** What `isoDate` accepts, for cross-field rules that must not compare a date already reported invalid. */
const isIsoDate = (value: string): boolean => z.iso.date().safeParse(value).success;

const httpUrl = (description: string) =>
  z
    .url({
      protocol: /^https?$/,
      ...onlyFormat('must be an http(s) URL, e.g. https://creativecommons.org/licenses/by/4.0/'),
    })
    .describe(description);

const anyUri = (description: string) =>
  z.url(onlyFormat('must be an absolute URI, e.g. https://example.org/data')).describe(description);

export const associationsSchema = z
  .strictObject({
    organisationId: text('Registry id of the organisation on whose behalf the dataset is registered.'),
    dataCustodianId: text('Registry id of the person who is the dataset custodian.').optional(),
    pointOfContact: text('Point of contact for enquiries about this data, e.g. an email address.').optional(),
  })
  .meta({ title: 'Dataset Associations' });

/** An approval that may or may not apply: `relevant` says whether it applies, `obtained` whether it was obtained. */
export const optionallyRequiredCheckSchema = z.strictObject({
  relevant: z.boolean().describe('Does this consideration apply to the dataset?'),
  obtained: z.boolean().describe('If it applies: has the approval / consent been obtained?'),
});

export const approvalsSchema = z
  .strictObject({
    ethicsRegistration: optionallyRequiredCheckSchema.describe(
      'Human data or ethics/privacy approval required to register this dataset.',
    ),
    ethicsAccess: optionallyRequiredCheckSchema.describe(
      'Human data or ethics/privacy approval required to give access to this dataset.',
    ),
    indigenousKnowledge: optionallyRequiredCheckSchema.describe(
      'Indigenous Knowledge, and consent from the relevant communities.',
    ),
    exportControls: optionallyRequiredCheckSchema.describe('Export controls, due diligence and permits.'),
  })
  .meta({ title: 'Dataset Approvals' });

export const accessInfoSchema = z
  .strictObject({
    reposited: z
      .boolean()
      .describe('Is the data stored in this data store (true) or hosted elsewhere (false)?'),
    uri: anyUri('Where the externally hosted data is (only when not reposited).').optional(),
    description: text('How to access the externally hosted data (only when not reposited).').optional(),
  })
  .superRefine((value, ctx) => {
    for (const field of ['uri', 'description'] as const) {
      if (!value.reposited && value[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'required when reposited is false' });
      }
      if (value.reposited && value[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'must be absent when reposited is true (the data is in the data store)',
        });
      }
    }
  })
  .meta({ title: 'Access Info' });

/** A date that may not apply: `value` is required when `relevant` is true and must be absent otherwise. */
const optionallyRequiredDate = (title: string) =>
  z
    .strictObject({
      relevant: z.boolean().describe('Does this date apply?'),
      value: isoDate('The date (YYYY-MM-DD), only when relevant.').optional(),
    })
    .superRefine((v, ctx) => {
      if (v.relevant && v.value === undefined) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'required when relevant is true' });
      }
      if (!v.relevant && v.value !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be absent when relevant is false' });
      }
    })
    .meta({ title });

export const spatialInfoSchema = z
  .strictObject({
    coverage: text('Geographic area of the data, as EWKT.').max(50_000).optional(),
    resolution: text('Spatial resolution in decimal degrees (a positive number).')
      .refine((v) => /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) && Number(v) > 0, {
        message: 'must be a positive decimal number of degrees, e.g. "0.01"',
      })
      .optional(),
    extent: text('Bounding box of the data, as EWKT.').max(50_000).optional(),
  })
  .meta({ title: 'Dataset Spatial Information' });

export const temporalDurationSchema = z
  .strictObject({
    beginDate: isoDate('Start of the temporal coverage (YYYY-MM-DD).'),
    endDate: isoDate('End of the temporal coverage (YYYY-MM-DD).'),
  })
  .superRefine((v, ctx) => {
    if (isIsoDate(v.beginDate) && isIsoDate(v.endDate) && v.beginDate > v.endDate) {
      ctx.addIssue({
        code: 'custom',
        path: ['endDate'],
        message: `must not be before beginDate (${v.beginDate})`,
      });
    }
  })
  .meta({ title: 'Temporal Duration' });

/** ISO 8601 duration, e.g. `P1Y2M10DT2H30M`, `PT15M`, `P2W`. */
const ISO_DURATION =
  /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

export const temporalInfoSchema = z
  .strictObject({
    duration: temporalDurationSchema.optional(),
    resolution: text('Time step of the data as an ISO 8601 duration, e.g. "P1D".')
      .regex(ISO_DURATION, onlyFormat('must be an ISO 8601 duration, e.g. "P1Y2M10DT2H30M" or "PT1H"'))
      .optional(),
  })
  .meta({ title: 'Dataset Temporal Information' });

export const datasetInfoSchema = z
  .strictObject({
    name: text('A readable name for the dataset.', SHORT_TEXT),
    description: text('What the data is, its intended usage and anything else relevant.'),
    accessInfo: accessInfoSchema,
    publisherId: text('Registry id of the organisation publishing or producing the dataset.'),
    createdDate: optionallyRequiredDate('Dataset Creation Date'),
    publishedDate: optionallyRequiredDate('Dataset Publication Date'),
    license: httpUrl('URL of the usage licence.'),
    purpose: text('Why the data was created.').optional(),
    rightsHolder: text('Who owns or manages rights over the data.').optional(),
    usageLimitations: text('Caveats or restrictions on access or use.').optional(),
    preferredCitation: text('How the dataset should be cited.').optional(),
    spatialInfo: spatialInfoSchema.optional(),
    temporalInfo: temporalInfoSchema.optional(),
    formats: z
      .array(text(undefined, SHORT_TEXT))
      .max(1000, onlyFormat('must have at most 1,000 entries'))
      .describe('File formats in the dataset, e.g. "csv". Default: none.')
      .default([]),
    keywords: z
      .array(text(undefined, SHORT_TEXT))
      .max(1000, onlyFormat('must have at most 1,000 entries'))
      .describe('Keywords describing the dataset. Default: none.')
      .default([]),
    userMetadata: z
      .record(text(undefined, SHORT_TEXT), text())
      .describe('Free key-value annotations (string values). Default: none.')
      .default({}),
  })
  .meta({ title: 'Dataset Information' });

export const collectionFormatSchema = z
  .strictObject({
    associations: associationsSchema,
    approvals: approvalsSchema,
    datasetInfo: datasetInfoSchema,
  })
  .meta({
    title: 'Dataset Metadata',
    description: "A dataset's registry metadata (Provena's CollectionFormat, camelCase).",
  });

/** Metadata after validation: defaults applied (`formats`, `keywords`, `userMetadata` always present). */
export type DatasetMetadata = z.output<typeof collectionFormatSchema>;
/** Metadata as a client may send it (defaulted fields optional). */
export type DatasetMetadataInput = z.input<typeof collectionFormatSchema>;
