import { METADATA_FILE } from '../service/dataset-folder.js';
import type { ScopedAccess } from './scoped-token.js';

/** Object actions read credentials get on `<prefix>*`. */
export const READ_OBJECT_ACTIONS = ['s3:GetObject'] as const;
/** Object actions write credentials get on `<prefix>*` (reading included). */
export const WRITE_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;

export interface SessionPolicyInput {
  bucket: string;
  /** The dataset folder's key prefix in the bucket, ending in '/' (e.g. `registry/10378.1-42/`). */
  prefix: string;
  access: ScopedAccess;
  /** ARN partition: `aws` (default), `aws-cn`, `aws-us-gov`. */
  partition?: string;
}

/**
 * The inline session policy of scoped S3 credentials, as compact one-line JSON (Ceph RGW refuses
 * pretty-printed policies in some versions; AWS counts the packed size against a 2,048-byte limit):
 * object actions only on `arn:aws:s3:::<bucket>/<prefix>*`, and `s3:ListBucket` on the bucket only with
 * `StringLike s3:prefix <prefix>*`, so the holder can neither read nor list anything outside the folder
 * (listing the bucket root or a sibling folder is AccessDenied); write credentials may not overwrite or delete the
 * folder's `metadata.json` (the service's copy of the record; Ceph RGW 16 ignores that Deny for CopyObject). The
 * effective permissions are the intersection with the role's own policy. There is no Deny for keys with '.' or
 * '..' segments: RGW matches wildcards without backtracking, so no pattern list catches them at every depth
 * (docs/datastore.md, "What the session policy cannot stop on Ceph RGW").
 */
export function buildSessionPolicy(input: SessionPolicyInput): string {
  const { bucket, prefix, access } = input;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) && !/^[A-Za-z0-9._-]{3,255}$/.test(bucket)) {
    throw new Error(`invalid bucket name ${JSON.stringify(bucket)} for a session policy`);
  }
  if (prefix === '' || !prefix.endsWith('/') || prefix.startsWith('/')) {
    throw new Error(
      `a session policy prefix must be a non-empty folder key ending in '/', got ${JSON.stringify(prefix)}`,
    );
  }
  // IAM policy wildcards: '*' and '?' in the prefix would widen the grant.
  if (/[*?\s"\\]/.test(prefix)) {
    throw new Error(
      `the prefix ${JSON.stringify(prefix)} contains a character a session policy cannot scope`,
    );
  }
  const partition = input.partition ?? 'aws';
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DatasetObjects',
        Effect: 'Allow',
        Action: [...(access === 'write' ? WRITE_OBJECT_ACTIONS : READ_OBJECT_ACTIONS)],
        Resource: [`arn:${partition}:s3:::${bucket}/${prefix}*`],
      },
      {
        Sid: 'DatasetListing',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [`arn:${partition}:s3:::${bucket}`],
        Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      },
      // The folder's metadata.json is the service's copy of the record: writers change metadata through the
      // API (validated, in the history), never by overwriting or deleting that file.
      ...(access === 'write'
        ? [
            {
              Sid: 'ServiceMetadataCopy',
              Effect: 'Deny',
              Action: ['s3:PutObject', 's3:DeleteObject'],
              Resource: [`arn:${partition}:s3:::${bucket}/${prefix}${METADATA_FILE}`],
            },
          ]
        : []),
    ],
  };
  return JSON.stringify(policy);
}
