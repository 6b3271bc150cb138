import type { DatasetMetadataInput } from '../../src/datastore/model/metadata.js';

export interface SampleMetadataOptions {
  organisationId: string;
  dataCustodianId?: string;
  keywords?: string[];
  /** Default `About NAME`. */
  description?: string;
  /** Default 2024-05-01 (relevant); null: not relevant. */
  createdDate?: string | null;
}

/** Valid CollectionFormat metadata: reposited, CC-BY licence, every approval not relevant. */
export function sampleMetadata(name: string, o: SampleMetadataOptions): DatasetMetadataInput {
  const check = () => ({ relevant: false, obtained: false });
  const created = o.createdDate === undefined ? '2024-05-01' : o.createdDate;
  return {
    associations: {
      organisationId: o.organisationId,
      ...(o.dataCustodianId !== undefined ? { dataCustodianId: o.dataCustodianId } : {}),
    },
    approvals: {
      ethicsRegistration: check(),
      ethicsAccess: check(),
      indigenousKnowledge: check(),
      exportControls: check(),
    },
    datasetInfo: {
      name,
      description: o.description ?? `About ${name}`,
      accessInfo: { reposited: true },
      publisherId: o.organisationId,
      createdDate: created === null ? { relevant: false } : { relevant: true, value: created },
      publishedDate: { relevant: false },
      license: 'https://creativecommons.org/licenses/by/4.0/',
      keywords: o.keywords ?? ['test'],
    },
  };
}
