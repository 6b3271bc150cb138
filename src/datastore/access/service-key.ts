import { randomBytes } from 'node:crypto';
import type { AccessCatalog } from '../catalog/types.js';

/**
 * `service_settings` key of the deployment's HMAC key (base64url, 32 random bytes). It signs local presigned
 * URLs and scoped `wds_` tokens; each signs with its own domain-separation label, so one can never pass as
 * the other.
 */
export const SERVICE_HMAC_KEY_SETTING = 'presign-hmac-key';

const keys = new WeakMap<AccessCatalog, Promise<Buffer>>();

/**
 * The deployment's HMAC key, generated once (insert-if-absent) and kept in the catalog so that every replica
 * signs and verifies alike. Cached per catalog; a failed read is retried on the next call.
 */
export function serviceHmacKey(access: AccessCatalog): Promise<Buffer> {
  let key = keys.get(access);
  if (!key) {
    key = access
      .sharedSetting(SERVICE_HMAC_KEY_SETTING, () => randomBytes(32).toString('base64url'))
      .then((value) => Buffer.from(value, 'base64url'));
    key.catch(() => keys.delete(access));
    keys.set(access, key);
  }
  return key;
}
