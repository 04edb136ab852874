/**
 * Entry of the `bus-auth` executable and of its alias `bus`. It carries the
 * end-user client only; `bus operator …` and `bus api provider auth …` run
 * the `bus-operator` and `bus-api-provider-auth` executables beside it.
 *
 * @module
 */

import { runEntry } from "../../lib/runtime/entry.ts";

const loadAuth = () => import("./program.ts").then((module) => module.authProgram);

async function loadBus() {
  const [{ createBusProgram }, { siblingProgram }] = await Promise.all([
    import("../bus.ts"),
    import("../external/sibling.ts"),
  ]);
  return createBusProgram({
    auth: loadAuth,
    operator: siblingProgram("bus-operator"),
    "api provider auth": siblingProgram("bus-api-provider-auth"),
  });
}

if (import.meta.main) {
  Deno.exit(await runEntry({ programs: { "bus-auth": loadAuth, "bus": loadBus }, fallback: "bus-auth" }));
}
