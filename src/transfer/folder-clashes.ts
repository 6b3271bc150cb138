import { InvalidKeyError, type WharfError } from '../core/errors.js';
import { keysShadowedByFolders } from '../core/keys.js';

interface PlannedCopy {
  sourceKey: string;
  destKey: string;
  size: number;
}

/**
 * The items of a copy into a local folder that no file there can hold, by destination key, each with the error
 * to fail it with: a key ending in '/' that holds bytes (a folder marker with content), and a key other items
 * need as a folder (`x` beside `x/y`: the folder, holding the others, wins whatever order the copies run in).
 */
export function unstorableInFolder(items: readonly PlannedCopy[]): Map<string, WharfError> {
  const refused = new Map<string, WharfError>();
  for (const item of items) {
    if (!item.destKey.endsWith('/')) continue;
    refused.set(
      item.destKey,
      new InvalidKeyError(
        undefined,
        `its name ends in '/', as a folder marker's does, but it holds ${item.size} bytes, and no file can have that name`,
        { hint: 'nothing was written for it; read it with wharf cat URL > FILE' },
      ),
    );
  }
  const files = items.filter((item) => !item.destKey.endsWith('/'));
  const sourceOf = new Map(files.map((item) => [item.destKey, item.sourceKey]));
  for (const [destKey, below] of keysShadowedByFolders(files.map((item) => item.destKey))) {
    refused.set(
      destKey,
      new InvalidKeyError(
        undefined,
        `a folder of the same name holds other objects (${sourceOf.get(below) ?? below}), and a local folder cannot also be a file`,
        { hint: 'nothing was written for it; copy it on its own with wharf cp URL FILE' },
      ),
    );
  }
  return refused;
}
