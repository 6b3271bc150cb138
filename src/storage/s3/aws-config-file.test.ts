import { describe, expect, it } from 'vitest';
import { parseIni, profileSettingsFromIni } from './aws-config-file.js';

const CONFIG = `
# comment
[default]
region = eu-west-1
endpoint_url = http://127.0.0.1:7480

[profile rgw]
region=us-east-1
services = local
s3 =
  addressing_style = path
request_checksum_calculation = WHEN_REQUIRED ; inline comment

[services local]
s3 =
  endpoint_url = http://rgw.local:8080
sts =
  endpoint_url = http://sts.local
`;

describe('aws config file', () => {
  it('reads the default profile', () => {
    expect(profileSettingsFromIni(parseIni(CONFIG), 'default', 'f')).toEqual({
      file: 'f',
      region: 'eu-west-1',
      endpointUrl: 'http://127.0.0.1:7480',
    });
  });

  it('reads a named profile with a services section and nested s3 settings', () => {
    expect(profileSettingsFromIni(parseIni(CONFIG), 'rgw')).toEqual({
      file: undefined,
      region: 'us-east-1',
      endpointUrl: 'http://rgw.local:8080',
      addressingStyle: 'path',
      requestChecksumCalculation: 'when_required',
    });
  });

  it('gives nothing for an unknown profile', () => {
    expect(profileSettingsFromIni(parseIni(CONFIG), 'nope')).toEqual({ file: undefined });
  });
});
