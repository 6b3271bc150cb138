/**
 * Built-in table names. `pega-datamart` is Pega's ADM datamart export (Prediction Studio writes each monitoring
 * table as many small files under a folder per table); these are the names pdstools uses for them.
 */
export const PEGA_DATAMART_TABLES: Readonly<Record<string, string>> = {
  modelSnapshot: 'Data-Decision-ADM-ModelSnapshot_pzModelSnapshots',
  predictorSnapshot: 'Data-Decision-ADM-PredictorBinningSnapshot_pzADMPredictorSnapshots',
  binaryDistribution: 'Data-DM-BinaryDistribution',
  contingencyTable: 'Data-DM-ContingencyTable',
  histogram: 'Data-DM-Histogram',
  snapshot: 'Data-DM-Snapshot',
  notification: 'Data-DM-Notification',
};

/** The folder (under `--from`) that holds the datamart tables' folders. */
export const DEFAULT_DATAMART_FOLDER = 'datamart';

export const PEGA_DATAMART_PRESET = 'pega-datamart';
