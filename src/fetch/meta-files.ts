/**
 * The "meta file" readiness convention (as pdstools uses for exports): a data file `path/to/files_001.json`
 * is complete and ready to fetch iff its companion `path/to/.files_001.json.meta` exists. The exporter writes
 * the companion after the data file, so a fetch that honours the rule never takes a half-written export.
 */

const META_SUFFIX = '.meta';

/** True for keys whose base name starts with '.' and ends with '.meta' (companions, never data). */
export function isMetaFile(key: string): boolean {
  const name = baseNameOf(key);
  return name.startsWith('.') && name.endsWith(META_SUFFIX);
}

/** The companion of a data file: `dir/name` -> `dir/.name.meta`. */
export function metaCompanionOf(key: string): string {
  const cut = key.lastIndexOf('/') + 1;
  return `${key.slice(0, cut)}.${key.slice(cut)}${META_SUFFIX}`;
}

/** The data file a companion stands for: `dir/.name.meta` -> `dir/name`; undefined if `metaKey` is not one. */
export function dataFileOfMeta(metaKey: string): string | undefined {
  if (!isMetaFile(metaKey)) return undefined;
  const cut = metaKey.lastIndexOf('/') + 1;
  const name = metaKey.slice(cut + 1, metaKey.length - META_SUFFIX.length);
  return name === '' ? undefined : `${metaKey.slice(0, cut)}${name}`;
}

function baseNameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** Companions named one by one in a warning; the rest are counted. */
const ORPHANS_NAMED = 5;

/**
 * The warning for companions whose data file does not exist (keys as the store has them; `display` shows a key).
 * Not an error: the producer may be between writing the companion and the data file, or not have finished yet.
 */
export function orphanMetaWarning(metaKeys: readonly string[], display: (key: string) => string): string {
  const [first] = metaKeys;
  if (metaKeys.length === 1 && first !== undefined) {
    return (
      `${display(first)} has no data file ${display(dataFileOfMeta(first) ?? first)}: nothing is fetched ` +
      'for it until that exists (its producer may still be writing it)'
    );
  }
  const named = metaKeys.slice(0, ORPHANS_NAMED).map(display).join(', ');
  const more = metaKeys.length > ORPHANS_NAMED ? ` and ${metaKeys.length - ORPHANS_NAMED} more` : '';
  return (
    `${metaKeys.length} .meta companions have no data file (${named}${more}): nothing is fetched for them ` +
    'until their data files exist (their producer may still be writing them)'
  );
}
