/**
 * Entry of the `bus-operator` executable and of its aliases
 * `bus-operator-auth` and `bus-operator-token`, as containers start it.
 *
 * @module
 */

import { runEntry } from "../../lib/runtime/entry.ts";
import { OPERATOR_FAMILIES } from "./program.ts";

if (import.meta.main) {
  Deno.exit(
    await runEntry({
      programs: {
        "bus-operator": () => import("./program.ts").then((module) => module.operatorProgram),
        "bus-operator-auth": OPERATOR_FAMILIES.auth,
        "bus-operator-token": OPERATOR_FAMILIES.token,
      },
      fallback: "bus-operator",
    }),
  );
}
