import { describe, expect, it } from 'vitest';
import { buildSessionPolicy } from './session-policy.js';

describe('buildSessionPolicy', () => {
  it('grants read object actions on the prefix and listing only under it, as one compact line', () => {
    const text = buildSessionPolicy({ bucket: 'datasets', prefix: 'registry/10378.1-42/', access: 'read' });
    expect(text).not.toMatch(/\n|\s{2}/);
    expect(JSON.parse(text)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DatasetObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: ['arn:aws:s3:::datasets/registry/10378.1-42/*'],
        },
        {
          Sid: 'DatasetListing',
          Effect: 'Allow',
          Action: ['s3:ListBucket'],
          Resource: ['arn:aws:s3:::datasets'],
          Condition: { StringLike: { 's3:prefix': ['registry/10378.1-42/*'] } },
        },
      ],
    });
  });

  it('adds put, delete and multipart actions for write, and honours the partition', () => {
    const policy = JSON.parse(
      buildSessionPolicy({ bucket: 'b-1', prefix: '10378.1-7/', access: 'write', partition: 'aws-cn' }),
    );
    expect(policy.Statement[0].Action).toEqual([
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
    ]);
    expect(policy.Statement[0].Resource).toEqual(['arn:aws-cn:s3:::b-1/10378.1-7/*']);
    expect(policy.Statement[1].Action).toEqual(['s3:ListBucket']);
    expect(policy.Statement[2]).toEqual({
      Sid: 'ServiceMetadataCopy',
      Effect: 'Deny',
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: ['arn:aws-cn:s3:::b-1/10378.1-7/metadata.json'],
    });
  });

  it('refuses prefixes that would widen or break the scope', () => {
    for (const prefix of ['', 'no-slash', '/abs/', 'a*/', 'a?/', 'a b/']) {
      expect(() => buildSessionPolicy({ bucket: 'datasets', prefix, access: 'read' }), prefix).toThrow();
    }
    expect(() => buildSessionPolicy({ bucket: 'x', prefix: 'a/', access: 'read' })).toThrow(/bucket/);
  });
});
