import type { DatasetRecord, ReviewQueueItem } from '../datastore/model/dataset.js';
import { clip, visible } from './text-table.js';

/** `2024-05-01T10:11:12.123Z` → `2024-05-01 10:11`. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').slice(0, 16);
}

/** The table of `wharf dataset list` and `search`. */
export function datasetRows(records: DatasetRecord[]): string[][] {
  return records.map((r) => [
    r.id,
    `v${r.versioning.version}`,
    r.release.status,
    r.owner,
    shortTime(r.updatedAt),
    clip(r.metadata.datasetInfo.name, 60),
  ]);
}
export const DATASET_HEADER = ['ID', 'VERSION', 'STATUS', 'OWNER', 'UPDATED', 'NAME'];

/** The table of `wharf review queue`: who asked when, the dataset, the start of their notes. */
export function reviewQueueRows(items: ReviewQueueItem[]): string[][] {
  return items.map(({ dataset, request }) => [
    dataset.id,
    shortTime(request?.timestamp ?? dataset.release.timestamp),
    request?.actor ?? dataset.release.requester ?? '-',
    clip(dataset.metadata.datasetInfo.name, 40),
    request?.notes ? clip(request.notes, 60) : '-',
  ]);
}
export const REVIEW_QUEUE_HEADER = ['ID', 'REQUESTED', 'REQUESTER', 'NAME', 'NOTES'];

/** `wharf dataset show`: the record as labelled lines. */
export function describeDataset(r: DatasetRecord): string {
  const info = r.metadata.datasetInfo;
  const lines: [string, string][] = [
    ['id', r.id],
    ['name', info.name],
    ['description', clip(info.description, 200)],
    ['owner', r.owner],
    ['version', String(r.versioning.version)],
    ['previous version', r.versioning.previousVersion ?? '-'],
    ['next version', r.versioning.nextVersion ?? '-'],
    [
      'release',
      `${r.release.status}${r.release.approver ? ` (approver ${r.release.approver})` : ''}${
        r.release.timestamp ? ` since ${shortTime(r.release.timestamp)}` : ''
      }`,
    ],
    ['revision', String(r.revision)],
    ['organisation', r.metadata.associations.organisationId],
    ['license', info.license],
    ['keywords', info.keywords.length ? info.keywords.join(', ') : '-'],
    ['folder', r.folder],
    ['created', shortTime(r.createdAt)],
    ['updated', shortTime(r.updatedAt)],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${visible(value)}`).join('\n');
}

/** A value for a POSIX shell: single-quoted unless it is plainly safe. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
