import { describe, expect, it } from 'vitest';
import { clip, renderTable, visible, visibleLines } from './text-table.js';

const EVIL = 'Evil\u001b[2J\u001b[31mRED\u009b1m\u0007';

describe('control characters in human output', () => {
  it('visible shows every C0/C1 control character as \\xNN, newlines and tabs included', () => {
    expect(visible(EVIL)).toBe('Evil\\x1b[2J\\x1b[31mRED\\x9b1m\\x07');
    expect(visible('a\nb\tc\rd\u007f')).toBe('a\\x0ab\\x09c\\x0dd\\x7f');
    expect(visible('plain café ✓')).toBe('plain café ✓');
  });

  it('visibleLines keeps newlines and tabs of a message', () => {
    expect(visibleLines(`one ${EVIL}\n\ttwo\r`)).toBe('one Evil\\x1b[2J\\x1b[31mRED\\x9b1m\\x07\n\ttwo\\x0d');
  });

  it('clip and renderTable never pass one through', () => {
    expect(clip(`a\n${EVIL}`, 100)).toBe('a Evil\\x1b[2J\\x1b[31mRED\\x9b1m\\x07');
    const table = renderTable(['ID', 'NAME'], [['1', EVIL]]);
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/); // eslint-disable-line no-control-regex
    expect(table).toContain('Evil\\x1b[2J');
  });
});
