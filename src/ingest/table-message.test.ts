import { describe, expect, it } from 'vitest';
import { messageNamingTable } from './table-message.js';

describe('messageNamingTable', () => {
  it('leaves a message that names the table, as typed or JSON-quoted, and prefixes one that does not', () => {
    expect(messageNamingTable('events', 'table "public.events" not found')).toBe(
      'table "public.events" not found',
    );
    expect(messageNamingTable('x"y', 'table "public.x\\"y" not found')).toBe(
      'table "public.x\\"y" not found',
    );
    expect(messageNamingTable('events', 'connection reset')).toBe('events: connection reset');
  });
});
