/**
 * IP addresses and CIDR ranges, for trusted proxies and the client address
 * behind them.
 *
 * @module
 */

/** A parsed address range. */
export interface Cidr {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  bytes: Uint8Array;
  prefix: number;
  /** The range as written. */
  text: string;
}

/**
 * Parses an IPv4 or IPv6 address into bytes. IPv4-mapped IPv6 addresses
 * (`::ffff:192.0.2.1`) become their IPv4 form.
 *
 * @returns the bytes, or `null` when the text is not an address
 */
export function parseIp(text: string): Uint8Array | null {
  const value = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIpv4(value);
  if (v4) return v4;
  const v6 = parseIpv6(value);
  if (v6 && v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) return v6.slice(12);
  return v6;
}

/**
 * Parses `address/prefix` or a bare address (a single-host range).
 *
 * @returns the range, or `null` when malformed
 * @example
 * ```ts
 * parseCidr("10.0.0.0/8"); // { bytes: [10,0,0,0], prefix: 8, text: "10.0.0.0/8" }
 * ```
 */
export function parseCidr(text: string): Cidr | null {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const bytes = parseIp(address);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  return prefix <= max ? { bytes, prefix, text: text.trim() } : null;
}

/** Tells whether an address lies inside a range. */
export function cidrContains(range: Cidr, address: Uint8Array): boolean {
  if (range.bytes.length !== address.length) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const bits = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((range.bytes[bit / 8] & mask) !== (address[bit / 8] & mask)) return false;
  }
  return true;
}

/**
 * Finds the client address of a request: the peer address, unless the peer
 * is a trusted proxy, in which case the right-most `X-Forwarded-For` entry
 * that is not itself a trusted proxy. Untrusted peers cannot spoof the
 * result by sending the header.
 */
export function resolveClientIp(peer: string, forwardedFor: string | null, trusted: readonly Cidr[]): string {
  const isTrusted = (ip: string) => {
    const bytes = parseIp(ip);
    return bytes !== null && trusted.some((range) => cidrContains(range, bytes));
  };
  if (!forwardedFor || !isTrusted(peer)) return peer;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    if (parseIp(hops[i]) === null) return peer;
    if (!isTrusted(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return new Uint8Array(parts.map(Number));
}

function parseIpv6(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return null;
  let tail = text;
  const bytes: number[] = [];
  const v4 = /(^|:)([0-9.]+)$/.exec(text);
  let v4Bytes: Uint8Array | null = null;
  if (v4 && v4[2].includes(".")) {
    v4Bytes = parseIpv4(v4[2]);
    if (!v4Bytes) return null;
    tail = text.slice(0, text.length - v4[2].length) + "0:0";
  }
  const [head, rest] = tail.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const left = groups(head);
  const right = groups(rest);
  if (![...left, ...right].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return null;
  for (const g of [...left, ...Array(missing).fill("0"), ...right]) {
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  const result = new Uint8Array(bytes);
  if (v4Bytes) result.set(v4Bytes, 12);
  return result;
}
