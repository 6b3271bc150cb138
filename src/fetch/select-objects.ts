import {
  NotFoundError,
  PreconditionFailedError,
  UsageError,
  ValidationError,
  throwIfAborted,
} from '../core/errors.js';
import { keysShadowedByFolders, unsafeKeyReason, joinKey } from '../core/keys.js';
import type { ObjectInfo, OpOptions, StorageDriver } from '../storage/types.js';
import { createKeyFilter, literalPattern } from './key-filter.js';
import { dataFileOfMeta, isMetaFile, metaCompanionOf } from './meta-files.js';
import { decodeManifest, parseManifest } from './remote-manifest.js';

export interface SelectOptions {
  /** Dataset prefix in the store: '' or ending in '/'. */
  prefix: string;
  /** Glob patterns on the key relative to the prefix (see key-filter.ts). Default: everything. */
  include?: string[] | undefined;
  /** Glob patterns on the relative key; any match drops the key. Default: none. */
  exclude?: string[] | undefined;
  /**
   * Key of a manifest relative to the prefix. If that object exists, only the objects it lists are taken, in its
   * order; if it does not, the whole listing is used and `manifestUsed` is false. Default: no manifest.
   */
  manifest?: string | undefined;
  /** Take only data files whose `.name.meta` companion exists (see meta-files.ts). Default: false. */
  metaFiles?: boolean | undefined;
  /** Bucket the manifest's `s3://` URLs must name. Default: any bucket. */
  bucket?: string | undefined;
  /** How messages show a key. Default: `<store name>/<key>`. */
  display?: ((key: string) => string) | undefined;
  signal?: AbortSignal | undefined;
}

export interface SelectedObject extends ObjectInfo {
  /** The key below the prefix; a safe relative path (no '..', no empty segments). */
  relativeKey: string;
}

export interface Selection {
  /** The objects to fetch: in manifest order with a manifest, else in listing (UTF-8 byte) order. */
  objects: SelectedObject[];
  /** Objects found under the prefix (empty folder markers, keys ending in '/', not counted). */
  listed: number;
  /** True if the manifest option was given and the manifest object existed. */
  manifestUsed: boolean;
  /**
   * Objects the selection would have taken but cannot be stored safely below a local folder (an unsafe relative
   * key, an object named `.wharf`, where the cache state folder goes, a key ending in '/' that holds bytes, or
   * a key other selected keys need as a folder: `data/x` beside `data/x/y`), with the reason and, where there is
   * more to say than "rename it", a hint. The caller reports them and fails.
   */
  refused: { key: string; reason: string; hint?: string }[];
  /**
   * Objects in the `.wharf/` folder at the top of the prefix that the selection would have taken: Wharf's own state
   * (a sync remote's shared index, a fetched dataset's cache index copied back to a bucket), never data. Skipped.
   */
  skippedState: number;
  /**
   * With `metaFiles`: `.meta` companions (keys) whose data file is not under the prefix, so nothing is fetched for
   * them (the producer may still be writing it, or it was removed). Only those whose data file the patterns would
   * take; none when a manifest chose the files.
   */
  orphanMetaFiles: string[];
}

/** Manifests larger than this are refused rather than read into memory. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const RESERVED_FOLDER = '.wharf';
const MAX_NAMED = 5;

/**
 * Decides which objects under `prefix` a fetch takes. Lists the prefix completely, then applies in order:
 * the manifest (if given and present), the meta-file rule (if `metaFiles`), include/exclude on the relative key.
 * Keys that survive but are unsafe as local paths go to `refused` instead of `objects`.
 *
 * Throws UsageError for a bad prefix, pattern or manifest key (before listing), NotFoundError if the manifest
 * lists an object that is not under the prefix, PreconditionFailedError if a manifest size differs from the listed
 * size or the manifest is malformed, InvalidKeyError for an unsafe manifest entry; errors of the store as they come.
 */
export async function selectObjects(store: StorageDriver, options: SelectOptions): Promise<Selection> {
  const { prefix, signal } = options;
  const display = options.display ?? ((key: string) => joinKey(store.name, key));
  if (prefix !== '' && !prefix.endsWith('/')) {
    throw new UsageError(`dataset prefix ${JSON.stringify(prefix)} must be empty or end with '/'`);
  }
  const keep = createKeyFilter({ include: options.include, exclude: options.exclude });
  if (options.manifest !== undefined) {
    const reason = unsafeKeyReason(options.manifest);
    if (reason) {
      throw new UsageError(`manifest key ${JSON.stringify(options.manifest)} is not usable: ${reason}`, {
        hint: 'give the manifest as a key relative to the dataset prefix, e.g. manifest.json',
      });
    }
  }

  const listing: SelectedObject[] = [];
  const byRelativeKey = new Map<string, SelectedObject>();
  for await (const object of store.list(prefix, { signal })) {
    if (object.isPrefix || object.key === prefix || !object.key.startsWith(prefix)) continue;
    // A folder marker (what "Create folder" in the S3 console makes) is no data; one that holds bytes is, and is
    // refused below rather than dropped unseen.
    if (object.key.endsWith('/') && object.size === 0) continue;
    const selected: SelectedObject = { ...object, relativeKey: object.key.slice(prefix.length) };
    listing.push(selected);
    byRelativeKey.set(selected.relativeKey, selected);
  }

  let candidates = listing;
  let manifestUsed = false;
  if (options.manifest !== undefined && byRelativeKey.has(options.manifest)) {
    candidates = await applyManifest(store, options.manifest, byRelativeKey, {
      prefix,
      bucket: options.bucket,
      display,
      signal,
    });
    manifestUsed = true;
  }
  throwIfAborted(signal);

  const orphanMetaFiles: string[] = [];
  if (options.metaFiles) {
    candidates = candidates.filter(
      (object) => !isMetaFile(object.relativeKey) && byRelativeKey.has(metaCompanionOf(object.relativeKey)),
    );
    if (!manifestUsed) {
      for (const object of listing) {
        const data = dataFileOfMeta(object.relativeKey);
        if (data === undefined || byRelativeKey.has(data) || !keep(data)) continue;
        if (!data.startsWith(`${RESERVED_FOLDER}/`)) orphanMetaFiles.push(object.key);
      }
    }
  }

  const objects: SelectedObject[] = [];
  const refused: Selection['refused'] = [];
  let skippedState = 0;
  for (const object of candidates) {
    if (!keep(object.relativeKey)) continue;
    if (object.relativeKey.startsWith(`${RESERVED_FOLDER}/`)) {
      skippedState += 1;
      continue;
    }
    const reason = refusalReason(object);
    if (reason === undefined) objects.push(object);
    else if (isMarkerWithBytes(object.relativeKey)) {
      refused.push({
        key: object.key,
        reason,
        hint: `nothing was written for it; read it with wharf cat '${display(object.key)}' > FILE`,
      });
    } else refused.push({ key: object.key, reason });
  }
  // A folder on disk cannot also be a file: the folder, which holds the other objects, wins, every run.
  const shadowed = keysShadowedByFolders(objects.map((object) => object.relativeKey));
  for (const object of objects) {
    const below = shadowed.get(object.relativeKey);
    if (below === undefined) continue;
    refused.push({
      key: object.key,
      reason: `a folder of the same name holds other objects (${below}), and a local folder cannot also be a file`,
      hint: `nothing was written for it; copy it on its own with wharf cp ${display(object.key)} FILE, or leave it out with --exclude '${literalPattern(object.relativeKey)}'`,
    });
  }
  return {
    objects: shadowed.size === 0 ? objects : objects.filter((o) => !shadowed.has(o.relativeKey)),
    listed: listing.length,
    manifestUsed,
    refused,
    skippedState,
    orphanMetaFiles,
  };
}

interface ManifestContext extends OpOptions {
  prefix: string;
  bucket: string | undefined;
  display: (key: string) => string;
}

async function applyManifest(
  store: StorageDriver,
  manifest: string,
  byRelativeKey: ReadonlyMap<string, SelectedObject>,
  ctx: ManifestContext,
): Promise<SelectedObject[]> {
  const manifestKey = ctx.prefix + manifest;
  const shownManifest = ctx.display(manifestKey);
  const text = await readText(store, manifestKey, shownManifest, ctx.signal);
  const entries = parseManifest(text, {
    manifestKey: shownManifest,
    prefix: ctx.prefix,
    ...(ctx.bucket === undefined ? {} : { bucket: ctx.bucket }),
  }).filter((entry) => entry.relativeKey !== manifest);

  const missing = entries.filter((entry) => !byRelativeKey.has(entry.relativeKey));
  if (missing.length > 0) {
    const encoded = missing.find((entry) => byRelativeKey.has(percentDecoded(entry.relativeKey)));
    throw new NotFoundError(
      `manifest ${shownManifest} lists ${missing.length} object(s) that do not exist: ` +
        nameSome(missing.map((entry) => ctx.display(ctx.prefix + entry.relativeKey))),
      {
        hint: encoded
          ? `the manifest's keys look URL-encoded: ${ctx.display(ctx.prefix + percentDecoded(encoded.relativeKey))} exists; write keys as they are`
          : 'the export may be incomplete or the manifest stale; fetch again when the export has finished',
      },
    );
  }
  const selected = entries.map((entry) => byRelativeKey.get(entry.relativeKey) as SelectedObject);
  const wrongSize = entries.find((entry, i) => entry.size !== undefined && entry.size !== selected[i]?.size);
  if (wrongSize) {
    const object = byRelativeKey.get(wrongSize.relativeKey) as SelectedObject;
    // The data is not in the state the manifest describes (like a timestamp spread): exit 5, not a usage error.
    throw new PreconditionFailedError(
      `manifest ${shownManifest} says ${ctx.display(object.key)} has ${wrongSize.size} bytes, ` +
        `but the store lists ${object.size} bytes`,
      { hint: 'the object was changed after the manifest was written, or the export is still running' },
    );
  }
  return selected;
}

async function readText(
  store: StorageDriver,
  key: string,
  shown: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const body = await store.read(key, { signal });
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buffer.length;
    if (total > MAX_MANIFEST_BYTES) {
      body.destroy();
      throw new ValidationError(`manifest ${shown} is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(buffer);
    throwIfAborted(signal);
  }
  return decodeManifest(Buffer.concat(chunks));
}

/** `key` with %XX escapes decoded ('+' kept), or `key` itself when it has none or they are malformed. */
function percentDecoded(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** A key like `notes/` (empty markers never get this far): a folder's name, with bytes of its own. */
function isMarkerWithBytes(relativeKey: string): boolean {
  return relativeKey.endsWith('/') && unsafeKeyReason(relativeKey.slice(0, -1)) === undefined;
}

function refusalReason(object: SelectedObject): string | undefined {
  const { relativeKey } = object;
  if (isMarkerWithBytes(relativeKey)) {
    return `its name ends in '/', as a folder marker's does, but it holds ${object.size} bytes, and no file can have that name`;
  }
  const unsafe = unsafeKeyReason(relativeKey);
  if (unsafe !== undefined) return unsafe;
  if (relativeKey === RESERVED_FOLDER) {
    return `the name ${RESERVED_FOLDER} is reserved for Wharf's cache state folder`;
  }
  return undefined;
}

function nameSome(names: string[]): string {
  const shown = names.slice(0, MAX_NAMED).join(', ');
  return names.length > MAX_NAMED ? `${shown} and ${names.length - MAX_NAMED} more` : shown;
}
