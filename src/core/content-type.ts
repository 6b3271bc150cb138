/**
 * The Content-Type an upload of a file gets from its name's extension, as aws-cli and rclone give one: a
 * browser opening a presigned URL, or a web server in front of the bucket, then shows a .pdf or .html as what
 * it is instead of offering "application/octet-stream" for download. Unknown extensions get
 * `application/octet-stream` when uploaded (uploadContentTypeFor), as rclone gives them.
 */
const BY_EXTENSION: Record<string, string> = {
  // Data
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  jsonl: 'application/jsonl',
  ndjson: 'application/x-ndjson',
  geojson: 'application/geo+json',
  parquet: 'application/vnd.apache.parquet',
  avro: 'application/avro',
  arrow: 'application/vnd.apache.arrow.file',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  toml: 'application/toml',
  sql: 'application/sql',
  // Text and web
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  wasm: 'application/wasm',
  // Documents
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  // Images, audio, video
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  // Archives and compressed files (the type of the file as stored, not of what it holds)
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
};

/** The Content-Type for a file or key named `name` (by its extension, case-insensitive), or undefined. */
export function contentTypeFor(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return BY_EXTENSION[base.slice(dot + 1).toLowerCase()];
}

/**
 * The Content-Type an upload of `name` is sent with: its extension's, else `application/octet-stream`. Always one:
 * left to the store, Ceph RGW gives a single PUT `application/octet-stream` and a multipart upload
 * `binary/octet-stream`, so a file's type would depend on its size.
 */
export function uploadContentTypeFor(name: string): string {
  return contentTypeFor(name) ?? 'application/octet-stream';
}
