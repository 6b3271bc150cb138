import { defineDatastoreApiSuite } from '../support/datastore-api-suite.js';

/** Every route, the authorization matrix and the replicas, with the dataset folders in a local folder. */
defineDatastoreApiSuite('local');
