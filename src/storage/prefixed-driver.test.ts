import { expect, it } from 'vitest';
import { InvalidKeyError } from '../core/errors.js';
import { describeDriverConformance } from './conformance/describe-driver-conformance.js';
import { MemoryDriver } from './memory/memory-driver.js';
import { PrefixedDriver } from './prefixed-driver.js';

// A prefixed view must be indistinguishable from a store of its own.
const inner = new MemoryDriver();
describeDriverConformance(
  'prefixed view (over memory)',
  async () => ({ driver: new PrefixedDriver(inner, 'team/data/') }),
  {
    largeObjectBytes: 4 * 1024 * 1024 + 1,
    extraTests: (get) => {
      it('stores under the prefix in the inner store and never sees siblings', async () => {
        await inner.write('team/other.txt', Buffer.from('sibling'));
        await get().driver.write('view.txt', Buffer.from('mine'));
        expect(await inner.stat('team/data/view.txt')).toMatchObject({ size: 4 });
        const keys: string[] = [];
        for await (const info of get().driver.list('')) keys.push(info.key);
        expect(keys).toContain('view.txt');
        expect(keys.some((k) => k.includes('other.txt'))).toBe(false);
      });
    },
  },
);

it("keyRefusal: the inner store's, of the key with the prefix (S3's limit counts the prefix)", () => {
  const refusing = Object.assign(new MemoryDriver(), {
    keyRefusal: (key: string) =>
      key.length > 12 ? new InvalidKeyError(key, `${key.length} characters`) : undefined,
  });
  const view = new PrefixedDriver(refusing, 'team/');
  expect(view.keyRefusal?.('1234567')).toBeUndefined();
  expect(view.keyRefusal?.('12345678')).toMatchObject({ key: 'team/12345678', reason: '13 characters' });
  expect(new PrefixedDriver(new MemoryDriver(), 'team/').keyRefusal).toBeUndefined();
});
