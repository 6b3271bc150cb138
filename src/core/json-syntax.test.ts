import { describe, expect, it } from 'vitest';
import { jsonSyntaxReason } from './json-syntax.js';

describe('jsonSyntaxReason', () => {
  it("keeps JSON.parse's reason on one line, showing the quoted text's newlines escaped", () => {
    let error: unknown;
    try {
      JSON.parse('hello\nworld\r\n');
    } catch (e) {
      error = e;
    }
    const reason = jsonSyntaxReason(error);
    expect(reason).not.toMatch(/[\r\n]/);
    expect(reason).toContain('hello\\nworld');
  });
});
