import { defineDatastoreApiSuite } from '../support/datastore-api-suite.js';

/** The same suite as datastore-api.test.ts with the dataset folders on the real S3 server (Ceph RGW). */
defineDatastoreApiSuite('s3');
