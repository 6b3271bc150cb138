import { describe, expect, it } from 'vitest';
import { formatBytes, parseDurationSeconds, parseSize } from './units.js';

describe('units', () => {
  it('parses durations', () => {
    expect(parseDurationSeconds('90')).toBe(90);
    expect(parseDurationSeconds('15m')).toBe(900);
    expect(parseDurationSeconds('1h30m')).toBe(5400);
    expect(parseDurationSeconds('7d')).toBe(604800);
    expect(() => parseDurationSeconds('soon', '--expires')).toThrow(/invalid --expires "soon"/);
    expect(() => parseDurationSeconds('1h soon')).toThrow(/invalid/);
  });

  it('parses sizes in SI and binary units', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('8MiB')).toBe(8 * 1024 * 1024);
    expect(parseSize('1.5GB')).toBe(1.5e9);
    expect(parseSize('256 mib')).toBe(256 * 1024 * 1024);
    expect(() => parseSize('12 parsecs')).toThrow(/invalid size/);
  });

  it('formats bytes for people', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(4.938271604938271)).toBe('5 B'); // a rate: never a long fraction
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16.0 MiB');
  });
});
