import { z } from 'zod';
import { encodeScopedToken } from '../../datastore/access/scoped-token.js';
import { serviceHmacKey } from '../../datastore/access/service-key.js';
import {
  CREDENTIALS_DEFAULT_SECONDS,
  CREDENTIALS_MAX_SECONDS,
  CREDENTIALS_MIN_SECONDS,
} from '../../datastore/access/sts-credentials.js';
import { markAudited } from '../../datastore/service/audited-errors.js';
import { datasetFolder } from '../../datastore/service/dataset-folder.js';
import { credentialsResultSchema } from '../../datastore/model/data-access-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { handleId, handleParams } from './params.js';

export const credentialsRequest = z
  .strictObject({
    access: z.enum(['read', 'write']).describe('read: GET and list the folder; write: also PUT and DELETE.'),
    durationSeconds: z
      .number()
      .int()
      .min(CREDENTIALS_MIN_SECONDS)
      .max(CREDENTIALS_MAX_SECONDS)
      .default(CREDENTIALS_DEFAULT_SECONDS)
      .describe('Lifetime: 900 to 43200 seconds, default 3600.'),
  })
  .meta({ title: 'CredentialsRequest' });

/** `POST /datasets/{p}/{n}/credentials`: temporary credentials for one dataset's folder. */
export const credentialRoutes: RouteSpec[] = [
  route({
    method: 'POST',
    path: '/datasets/{prefix}/{number}/credentials',
    operationId: 'generateDatasetCredentials',
    tag: 'data',
    summary: "Temporary read (data-read) or write (data-write) credentials for the dataset's folder",
    description:
      'With an S3 store and an STS role configured: STS AssumeRole credentials whose session policy allows ' +
      'object actions only under the folder and ListBucket only with an s3:prefix inside it (kind s3; works ' +
      "with aws-cli). Otherwise a wds_ bearer token for this dataset's /files routes (kind wharf). write is " +
      'refused (409) while the dataset is PENDING or RELEASED.',
    params: handleParams,
    body: credentialsRequest,
    errors: [403, 404, 409, 503],
    success: {
      status: 200,
      description:
        'kind s3: { endpoint, region, bucket, prefix, accessKeyId, secretAccessKey, sessionToken, expiration }; kind wharf: { endpoint, token, expiration }',
      schema: credentialsResultSchema,
    },
    handler: async ({ params, body, principal, auth, ctx, request }) => {
      const id = handleId(params);
      const user = principal!;
      await auth.requireDatasetRole(user, id, body.access === 'write' ? 'data-write' : 'data-read');
      if (body.access === 'write') await ctx.service.assertDataWritable(id);
      const action = 'dataset.credentials';
      const details = { access: body.access, durationSeconds: body.durationSeconds };
      if (ctx.sts) {
        let issued;
        try {
          issued = await ctx.sts.issue({
            folder: datasetFolder(id),
            access: body.access,
            durationSeconds: body.durationSeconds,
            username: user.username,
          });
        } catch (error) {
          await ctx.catalog
            .audit({
              actor: user.username,
              action,
              target: id,
              outcome: 'error',
              details: {
                ...details,
                kind: 's3',
                message: (error instanceof Error ? error.message : String(error)).slice(0, 500),
              },
            })
            .catch(() => undefined);
          markAudited(error);
          throw error;
        }
        const expiration = issued.expiration.toISOString();
        await ctx.catalog.audit({
          actor: user.username,
          action,
          target: id,
          outcome: 'ok',
          // The access key id is not secret (it names the session in S3 logs); the secret and token never go here.
          details: {
            ...details,
            kind: 's3',
            accessKeyId: issued.accessKeyId,
            prefix: issued.prefix,
            expiration,
          },
        });
        return {
          kind: 's3' as const,
          access: body.access,
          datasetId: id,
          endpoint: issued.endpoint,
          region: issued.region,
          bucket: issued.bucket,
          prefix: issued.prefix,
          accessKeyId: issued.accessKeyId,
          secretAccessKey: issued.secretAccessKey,
          sessionToken: issued.sessionToken,
          expiration,
        };
      }
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = now + body.durationSeconds;
      const token = encodeScopedToken(await serviceHmacKey(ctx.access), {
        datasetId: id,
        access: body.access,
        issuer: user.username,
        issuedAt: now,
        expiresAt,
      });
      const expiration = new Date(expiresAt * 1000).toISOString();
      await ctx.catalog.audit({
        actor: user.username,
        action,
        target: id,
        outcome: 'ok',
        details: { ...details, kind: 'wharf', expiration },
      });
      return {
        kind: 'wharf' as const,
        access: body.access,
        datasetId: id,
        endpoint: `${request.protocol}://${request.host}`,
        token,
        expiration,
      };
    },
  }),
];
