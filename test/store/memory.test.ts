import { MemoryStore } from '../../src/store/memory.ts';
import { storeConformance } from './conformance.ts';

storeConformance('memory', async () => {
  let offset = 0;
  const store = new MemoryStore(() => Date.now() + offset);
  return {
    store,
    advance: async (seconds) => {
      offset += seconds * 1000;
    },
    keys: async () => (store.size === 0 ? [] : ['(live entries)']),
    teardown: () => store.close(),
  };
});
