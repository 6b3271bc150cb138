import { z } from 'zod';

/**
 * The answers of the data routes — presigned URLs, scoped credentials, dataset files — as zod schemas (the
 * server validates nothing with them but documents them in the OpenAPI document) and as the interfaces the
 * SDK types its answers with. The `Same<…>` checks at the bottom make the compiler fail if the two drift.
 */

export const presignResultSchema = z
  .strictObject({
    url: z.string().describe('Use it with the method, without an Authorization header.'),
    method: z.enum(['GET', 'PUT']),
    datasetId: z.string(),
    path: z.string(),
    expiresAt: z.string().describe('ISO 8601 time after which the URL is refused.'),
  })
  .meta({ title: 'PresignResult' });

export const s3CredentialsSchema = z
  .strictObject({
    kind: z.literal('s3'),
    access: z.enum(['read', 'write']),
    datasetId: z.string(),
    endpoint: z.string().nullable().describe('S3 endpoint URL; null: AWS S3 in `region`.'),
    region: z.string(),
    bucket: z.string(),
    prefix: z.string().describe("The dataset folder's key prefix in the bucket, ending in '/'."),
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    sessionToken: z.string(),
    expiration: z.string().describe('ISO 8601.'),
  })
  .meta({ title: 'S3ScopedCredentials' });

export const wharfCredentialsSchema = z
  .strictObject({
    kind: z.literal('wharf'),
    access: z.enum(['read', 'write']),
    datasetId: z.string(),
    endpoint: z.string().describe('The Wharf server to send the token to.'),
    token: z
      .string()
      .describe(
        "Authorization: Bearer wds_…; valid only for this dataset's /files routes and GET of its record.",
      ),
    expiration: z.string().describe('ISO 8601.'),
  })
  .meta({ title: 'WharfScopedCredentials' });

export const credentialsResultSchema = z
  .discriminatedUnion('kind', [s3CredentialsSchema, wharfCredentialsSchema])
  .meta({ title: 'ScopedCredentials' });

export const datasetFileSchema = z
  .strictObject({
    path: z.string().describe("Relative to the dataset's folder."),
    size: z.number(),
    lastModified: z.string().describe('ISO 8601.'),
    etag: z.string().nullable(),
  })
  .meta({ title: 'DatasetFile' });

export const fileListSchema = z
  .strictObject({
    files: z.array(datasetFileSchema),
    nextPaginationKey: z
      .string()
      .nullable()
      .describe('Pass back as paginationKey for the next page; null: last page.'),
  })
  .meta({ title: 'DatasetFileList' });

export const filePutResultSchema = z
  .strictObject({
    datasetId: z.string(),
    path: z.string(),
    size: z.number(),
    etag: z.string().nullable(),
  })
  .meta({ title: 'DatasetFileUploadResult' });

/** `POST /datasets/{p}/{n}/presign`. */
export interface PresignedUrl {
  /** Use it with `method` and no Authorization header. */
  url: string;
  method: 'GET' | 'PUT';
  datasetId: string;
  path: string;
  /** ISO time after which the URL is refused. */
  expiresAt: string;
}

export type AccessKind = 'read' | 'write';

/** Temporary S3 credentials limited to the dataset's folder (S3 store with an STS role configured). */
export interface S3DatasetCredentials {
  kind: 's3';
  access: AccessKind;
  datasetId: string;
  /** S3 endpoint URL; null for AWS S3 itself. */
  endpoint: string | null;
  region: string;
  bucket: string;
  /** The dataset's folder in the bucket, ending in '/'; the credentials reach nothing outside it. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

/** A short-lived bearer token valid only for the dataset's `/files` routes and its record (local store). */
export interface WharfDatasetCredentials {
  kind: 'wharf';
  access: AccessKind;
  datasetId: string;
  /** The datastore's URL as the server saw the request. */
  endpoint: string;
  /** `wds_…`: send as `Authorization: Bearer …`. */
  token: string;
  expiration: string;
}

/** `POST /datasets/{p}/{n}/credentials`. */
export type DatasetCredentials = S3DatasetCredentials | WharfDatasetCredentials;

/** `GET /datasets/{p}/{n}/files`: one page of the dataset's files. */
export interface DatasetFileList {
  files: DatasetFile[];
  /** Pass back as `paginationKey` for the next page; null on the last page. */
  nextPaginationKey: string | null;
}

/** `GET /datasets/{p}/{n}/files`: one file of the dataset. */
export interface DatasetFile {
  path: string;
  size: number;
  lastModified: string;
  etag: string | null;
}

// ------------------------------------------------------------------ drift checks (compile time only)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;
same<Same<z.output<typeof presignResultSchema>, PresignedUrl>>(true);
same<Same<z.output<typeof s3CredentialsSchema>, S3DatasetCredentials>>(true);
same<Same<z.output<typeof wharfCredentialsSchema>, WharfDatasetCredentials>>(true);
same<Same<z.output<typeof datasetFileSchema>, DatasetFile>>(true);
same<Same<z.output<typeof fileListSchema>, DatasetFileList>>(true);
