import { describeDriverConformance } from '../conformance/describe-driver-conformance.js';
import { MemoryDriver } from './memory-driver.js';

describeDriverConformance('memory', async () => ({ driver: new MemoryDriver() }), {
  largeObjectBytes: 8 * 1024 * 1024 + 3,
});
