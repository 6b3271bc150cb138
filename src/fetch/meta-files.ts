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
