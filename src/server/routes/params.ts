import { z } from 'zod';
import { onlyFormat } from '../../datastore/model/validation.js';

/** A handle id `PREFIX/N` in a path takes two segments: `/datasets/10378.1/42`. */
export const handleParams = z.strictObject({
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, onlyFormat("must be the id prefix: letters, digits, '.', '_', '-'"))
    .describe('The PREFIX of the handle id PREFIX/N, e.g. 10378.1.'),
  number: z
    .string()
    .regex(/^[0-9]{1,18}$/, onlyFormat('must be the number N of the handle id PREFIX/N'))
    .describe('The N of the handle id PREFIX/N.'),
});

export const handleId = (p: { prefix: string; number: string }): string => `${p.prefix}/${p.number}`;

/** An empty string stops here: the checks chained after this one would only add a second issue for it. */
export const nonEmpty = z.string().min(1, { ...onlyFormat('must not be empty'), abort: true });

export const username = nonEmpty
  .max(200)
  .regex(/^[^\s/]+$/, onlyFormat('must be a user name without spaces or slashes'))
  .describe('A user name.');

/** `true`/`false` in a query string. */
export const queryBoolean = z
  .enum(['true', 'false'], onlyFormat('must be true or false'))
  .transform((v) => v === 'true');

/** A positive integer in a query string. */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, onlyFormat(`must be a whole number from ${min} to ${max}`))
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
