/**
 * Credentials in URLs: messages never repeat a password written into a URL
 * (`http://user:pw@host`), and the programs refuse such URLs where a
 * credential has no business (the provider's address).
 *
 * @module
 */

/**
 * The text with the user-info part of every URL in it replaced by `***`.
 *
 * @example
 * ```ts
 * maskUrlCredentials("http://alice:s3cret@auth.example/api/v1/auth"); // "http://***@auth.example/api/v1/auth"
 * ```
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']*@/gi, "$1***@");
}

/** Whether a URL (parsed or not) carries a user name or password. */
export function hasUrlCredentials(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== "" || url.password !== "";
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^\s/]*@/i.test(value);
  }
}
