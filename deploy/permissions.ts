/**
 * The least privileges of each program, kept once in the `permissions`
 * sets of `deno.json` and turned into `--allow-*` flags here for
 * `deno compile`, `deno install` and the tests (the flags avoid Deno's
 * "experimental" notice that `-P` prints on every run).
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };

/** One permission set: each kind granted fully (`true`) or for the listed values. */
export type PermissionSet = Readonly<Record<string, boolean | readonly string[]>>;

/** The sets of `deno.json`, by name. */
export const PERMISSION_SETS: Readonly<Record<string, PermissionSet>> = denoConfig.permissions;

/** The program each executable or alias takes its permission set from. */
export const PERMISSION_SET_OF: Readonly<Record<string, string>> = {
  "bus": "bus-auth",
  "bus-auth": "bus-auth",
  "bus-operator": "bus-operator",
  "bus-operator-auth": "bus-operator",
  "bus-operator-token": "bus-operator",
  "bus-api-provider-auth": "bus-api-provider-auth",
};

/**
 * The `--allow-*` flags of a set, in a stable order.
 *
 * @example
 * ```ts
 * permissionFlags({ read: true, write: ["/var/lib/bus-auth"] }); // ["--allow-read", "--allow-write=/var/lib/bus-auth"]
 * ```
 */
export function permissionFlags(set: PermissionSet): string[] {
  const flags: string[] = [];
  for (const [kind, grant] of Object.entries(set)) {
    if (grant === true) flags.push(`--allow-${kind}`);
    else if (Array.isArray(grant) && grant.length > 0) flags.push(`--allow-${kind}=${grant.join(",")}`);
  }
  return flags;
}

/** The flags of a program's set. @throws Error for a name without a set */
export function programPermissionFlags(program: string): string[] {
  const set = PERMISSION_SETS[PERMISSION_SET_OF[program] ?? program];
  if (set === undefined) throw new Error(`No permission set for "${program}" in deno.json`);
  return permissionFlags(set);
}

/**
 * V8 flags of a program, for `deno compile`, the wrappers, `deno task dev`
 * and the tests. The provider caps V8's young generation at 4 MB a
 * semi-space: V8 otherwise grows it to 16 MB under a steady stream of
 * requests, which raised the provider's resident memory after a benchmark
 * run from about 140 to about 190 MB on PostgreSQL, with no gain in
 * throughput. It also grows V8's old generation by half of what survived
 * each full collection (`--heap-growing-percent=50`) instead of by V8's own
 * factor of up to 4: under sign-ins the heap otherwise grew to 130-137 MB
 * on PostgreSQL, of which V8 gave back all but about 85 MB once the load
 * stopped; with it the peak was 109-114 MB, at the same rates
 * (docs/BENCHMARKS.md, eleventh session).
 */
export const V8_FLAGS: Readonly<Record<string, readonly string[]>> = {
  "bus-api-provider-auth": ["--v8-flags=--max-semi-space-size=4,--heap-growing-percent=50"],
};

/** The V8 flags of a program (none for most). */
export function programV8Flags(program: string): string[] {
  return [...V8_FLAGS[PERMISSION_SET_OF[program] ?? program] ?? []];
}
