/**
 * Typed reading of environment values that collects every problem instead of
 * stopping at the first one. Secret values never appear in a problem.
 *
 * @module
 */

/** Reads a file's text; injected so tests need no files. */
export type ReadTextFile = (path: string) => string;

/** Reads `BUS_AUTH_*` values from a plain record and records problems. */
export class EnvReader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  #env: Readonly<Record<string, string | undefined>>;
  #readFile: ReadTextFile;
  #fileMode: (path: string) => number | null;

  constructor(
    env: Readonly<Record<string, string | undefined>>,
    readFile: ReadTextFile,
    fileMode: (path: string) => number | null,
  ) {
    this.#env = env;
    this.#readFile = readFile;
    this.#fileMode = fileMode;
  }

  /** The trimmed value, or `undefined` when unset or blank. */
  string(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === "" ? undefined : value;
  }

  /**
   * A secret from `NAME` or from the file named by `NAME_FILE` (one trailing
   * line break removed). Setting both is a problem; so is an unreadable file.
   * A file readable by group or others earns a warning.
   */
  secret(name: string): string | undefined {
    const direct = this.#env[name];
    const filePath = this.string(`${name}_FILE`);
    if (direct !== undefined && direct !== "" && filePath !== undefined) {
      this.problems.push(`${name} and ${name}_FILE are both set: keep one`);
      return undefined;
    }
    if (filePath === undefined) return direct === "" ? undefined : direct;
    let text: string;
    try {
      text = this.#readFile(filePath);
    } catch (error) {
      const why = error instanceof Error ? error.message.split(":")[0] : "unreadable";
      this.problems.push(`${name}_FILE: cannot read "${filePath}": ${why}`);
      return undefined;
    }
    const mode = this.#fileMode(filePath);
    if (mode !== null && (mode & 0o077) !== 0) {
      this.warnings.push(
        `${name}_FILE "${filePath}" is readable by group or others (mode ${octal(mode)}): chmod 600 it`,
      );
    }
    const value = text.replace(/\r?\n$/, "");
    if (value === "") this.problems.push(`${name}_FILE: "${filePath}" is empty`);
    return value === "" ? undefined : value;
  }

  /**
   * The text of a file that `name` points to, with its permission bits
   * (`null` when unknown), or `undefined` after recording why it cannot be read.
   */
  file(name: string, path: string): { text: string; mode: number | null } | undefined {
    try {
      return { text: this.#readFile(path), mode: this.#fileMode(path) };
    } catch (error) {
      const why = error instanceof Error ? error.message.split(":")[0] : "unreadable";
      this.problems.push(`${name}: cannot read "${path}": ${why}`);
      return undefined;
    }
  }

  /** An integer within bounds, or the default when unset. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${clip(value)}"`);
      return fallback;
    }
    return Number(value);
  }

  /** A boolean (`true/false`, `1/0`, `yes/no`, `on/off`), or the default. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.string(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["true", "1", "yes", "on"].includes(value)) return true;
    if (["false", "0", "no", "off"].includes(value)) return false;
    this.problems.push(`${name}: expected true or false, got "${clip(value)}"`);
    return fallback;
  }

  /** One of a fixed set of words, or the default. */
  choice<T extends string>(name: string, fallback: T, choices: readonly T[]): T {
    const value = this.string(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: expected one of ${choices.join(", ")}, got "${clip(value)}"`);
    return fallback;
  }

  /** Records a problem with a variable. */
  problem(message: string): void {
    this.problems.push(message);
  }
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
