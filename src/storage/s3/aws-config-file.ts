import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Reads the settings Wharf takes from the AWS shared config file (`~/.aws/config`, or `AWS_CONFIG_FILE`) for one
 * profile: region, endpoint_url (also from a `services` section), addressing style and the checksum settings.
 * Credentials are not read here: the SDK's credential chain does that.
 */
export interface AwsProfileSettings {
  /** The file that was read, for messages (absent when there is no such file). */
  file: string | undefined;
  region?: string;
  /** `endpoint_url` for S3: `[services X] s3 = endpoint_url = ...` wins over the profile's own `endpoint_url`. */
  endpointUrl?: string;
  /** `ignore_configured_endpoint_urls = true` */
  ignoreConfiguredEndpointUrls?: boolean;
  /** `s3 = addressing_style = path|virtual|auto` */
  addressingStyle?: string;
  requestChecksumCalculation?: string;
  responseChecksumValidation?: string;
}

type IniSections = Map<string, Map<string, string>>;

/** The default path of the shared config file, honouring AWS_CONFIG_FILE. */
export function awsConfigFilePath(env: NodeJS.ProcessEnv): string {
  return env['AWS_CONFIG_FILE'] || join(homedir(), '.aws', 'config');
}

/** Settings of `profile` from the shared config file; a missing file yields no settings (not an error). */
export async function readAwsProfileSettings(
  profile: string,
  env: NodeJS.ProcessEnv,
): Promise<AwsProfileSettings> {
  const file = awsConfigFilePath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { file: undefined };
  }
  return profileSettingsFromIni(parseIni(text), profile, file);
}

/** Picks one profile's settings out of a parsed config file. Exported for unit tests. */
export function profileSettingsFromIni(
  sections: IniSections,
  profile: string,
  file?: string,
): AwsProfileSettings {
  const section =
    sections.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? sections.get(profile);
  const settings: AwsProfileSettings = { file };
  if (!section) return settings;
  const region = section.get('region');
  if (region) settings.region = region;
  const servicesName = section.get('services');
  const serviceEndpoint = servicesName
    ? sections.get(`services ${servicesName}`)?.get('s3.endpoint_url')
    : undefined;
  const endpointUrl = serviceEndpoint || section.get('endpoint_url');
  if (endpointUrl) settings.endpointUrl = endpointUrl;
  const ignore = section.get('ignore_configured_endpoint_urls');
  if (ignore !== undefined) settings.ignoreConfiguredEndpointUrls = ignore.toLowerCase() === 'true';
  const addressing = section.get('s3.addressing_style');
  if (addressing) settings.addressingStyle = addressing.toLowerCase();
  const request = section.get('request_checksum_calculation');
  if (request) settings.requestChecksumCalculation = request.toLowerCase();
  const response = section.get('response_checksum_validation');
  if (response) settings.responseChecksumValidation = response.toLowerCase();
  return settings;
}

/**
 * A small INI reader for the AWS config format: `[section]` headers, `key = value` lines, full-line `#`/`;`
 * comments, and indented sub-properties under a key with an empty value (stored as `parent.child`).
 */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  let parentKey: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(trimmed);
    if (header?.[1] !== undefined) {
      const name = header[1].replace(/\s+/g, ' ');
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      parentKey = undefined;
      continue;
    }
    if (!current) continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) continue;
    const key = trimmed.slice(0, eq).trim().toLowerCase();
    const value = trimmed
      .slice(eq + 1)
      .replace(/\s+[#;].*$/, '')
      .trim();
    const indented = /^\s/.test(rawLine);
    if (indented && parentKey !== undefined) {
      current.set(`${parentKey}.${key}`, value);
    } else {
      current.set(key, value);
      parentKey = value === '' ? key : undefined;
    }
  }
  return sections;
}
