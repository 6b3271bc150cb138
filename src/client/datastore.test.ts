import { describe, expect, it } from 'vitest';
import { Datastore } from './datastore.js';

/** A client that records whether it ever sent a request (an invalid id must be refused before that). */
function offline(): { ds: Datastore; sent: string[] } {
  const sent: string[] = [];
  const ds = new Datastore({
    endpoint: 'http://datastore.test',
    fetch: (url) => {
      sent.push(String(url));
      return Promise.reject(new Error('no request expected'));
    },
  });
  return { ds, sent };
}

describe('Datastore with an invalid dataset id', () => {
  const BAD = '10378.1/5/history';
  const calls: [string, (ds: Datastore) => Promise<unknown>][] = [
    ['fetchDataset', (ds) => ds.fetchDataset(BAD)],
    ['updateDatasetMetadata', (ds) => ds.updateDatasetMetadata(BAD, 'r', {} as never)],
    ['listDatasetHistory', (ds) => ds.listDatasetHistory(BAD)],
    ['revertDatasetMetadata', (ds) => ds.revertDatasetMetadata(BAD, 1, 'r')],
    ['versionDataset', (ds) => ds.versionDataset(BAD, 'r')],
    ['generateDatasetPresignedUrl', (ds) => ds.generateDatasetPresignedUrl(BAD, 'a.csv')],
    ['generateReadAccessCredentials', (ds) => ds.generateReadAccessCredentials(BAD)],
    ['generateWriteAccessCredentials', (ds) => ds.generateWriteAccessCredentials(BAD)],
    ['getReleaseState', (ds) => ds.getReleaseState(BAD)],
    ['review.datasetApprovalRequest', (ds) => ds.review.datasetApprovalRequest(BAD, 'rita')],
    ['review.actionApprovalRequest', (ds) => ds.review.actionApprovalRequest(BAD, true)],
  ];

  it.each(calls)(
    '%s returns a rejected promise (UsageError), never throws synchronously, sends nothing',
    async (_name, call) => {
      const { ds, sent } = offline();
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = call(ds);
      }).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'USAGE', message: `invalid dataset id "${BAD}"` });
      expect(sent).toEqual([]);
    },
  );

  it('downloadSpecificFile with a path that is not a string rejects too', async () => {
    const { ds } = offline();
    const dataset = ds.interactiveDataset('10378.1/5');
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = dataset.downloadSpecificFile(42 as unknown as string, '/tmp/x');
    }).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'USAGE' });
  });
});
