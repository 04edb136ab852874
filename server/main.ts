/**
 * Entry of the `bus-api-provider-auth` executable.
 *
 * @module
 */

import { runEntry } from "../lib/runtime/entry.ts";

if (import.meta.main) {
  Deno.exit(
    await runEntry({
      programs: {
        "bus-api-provider-auth": () => import("./provider_cli.ts").then((module) => module.providerProgram),
      },
      fallback: "bus-api-provider-auth",
    }),
  );
}
