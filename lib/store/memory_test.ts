import { storeConformance } from "../../tests/helpers/store_conformance.ts";
import { MemoryStore } from "./memory.ts";

storeConformance("memory", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});
