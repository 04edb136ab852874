/**
 * `deno task install [--root <dir>]`: installs the six program names as
 * `deno install -g` wrappers that run this checkout's `main.ts` with the
 * program name as first argument. Without --root, Deno's default
 * (`$DENO_INSTALL_ROOT` or `~/.deno`) is used; its `bin` must be on PATH.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { PROGRAMS } from "../main.ts";

/**
 * What the installed programs may do: network, files, environment, host facts
 * (nodemailer's HELO name), and running programs (`bus-X` modules found on
 * PATH, `run command --` lines of `.bus` files).
 */
export const INSTALL_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
  "--allow-run",
];

async function install(): Promise<number> {
  const { values } = parseArgs({ args: Deno.args, options: { root: { type: "string" } }, strict: true });
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  for (const name of Object.keys(PROGRAMS)) {
    const args = ["install", "-g", "-f", "-q", "-n", name, "--config", config, ...INSTALL_PERMISSIONS];
    if (values.root !== undefined) args.push("--root", values.root);
    args.push(main, "--", name);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped" })
      .output();
    if (code !== 0) {
      console.error(`Cannot install ${name}:\n${new TextDecoder().decode(stderr)}`);
      return 1;
    }
    console.log(`Installed ${name}`);
  }
  const bin = values.root ?? Deno.env.get("DENO_INSTALL_ROOT") ?? `${Deno.env.get("HOME")}/.deno`;
  console.log(`The programs are in ${bin}/bin; make sure it is on PATH.`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await install();
