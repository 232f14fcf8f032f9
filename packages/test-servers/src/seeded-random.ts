// One implementation, shared with the published reliability harness.
export { seededRandom } from '@modelstore/storage-conformance/seeded-random';
