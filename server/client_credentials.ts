/**
 * The client-credentials grant on the internal token endpoint (RFC 6749
 * §4.4): a form-encoded body with `grant_type=client_credentials`, the
 * client authenticated by HTTP Basic (§2.3.1: id and key form-encoded, then
 * base64) or by `client_id` and `client_secret` in the body, an optional
 * `scope`, and the `ttl_seconds` extension parameter. Refusals are
 * `OAuthError`s, answered in the shape of §5.2.
 *
 * @module
 */

import type { Context } from "hono";
import { Buffer } from "node:buffer";
import { OAuthError, quotable } from "../lib/errors.ts";
import { type ClientCredentialsRequest, issueClientToken } from "../lib/service/client_credentials.ts";
import type { AppEnv } from "./env.ts";
import { jsonAnswer } from "./envelope.ts";
import { internalTokenJson } from "./presenters.ts";
import { readBodyText } from "./request.ts";

const FORM_TYPE = "application/x-www-form-urlencoded";
const BASIC = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i;
const TTL = /^[1-9][0-9]{0,8}$/;

/** Whether the request body is form-encoded (`Content-Type: application/x-www-form-urlencoded`, any parameters). */
export function isFormEncoded(c: Context<AppEnv>): boolean {
  return (c.req.header("Content-Type") ?? "").split(";")[0].trim().toLowerCase() === FORM_TYPE;
}

/** Answers a client-credentials request with a token (RFC 6749 §5.1, plus the fields of the internal endpoint). */
export async function clientCredentialsToken(c: Context<AppEnv>): Promise<Response> {
  const grant = await issueClientToken(c.get("ctx"), await readClientCredentials(c));
  c.set("issuedAudience", grant.claims.aud);
  const answer = jsonAnswer({ ...internalTokenJson(grant), client_id: grant.client.clientId });
  answer.headers.set("Pragma", "no-cache");
  return answer;
}

/**
 * Takes a client-credentials request apart.
 *
 * @throws {OAuthError} `invalid_request` (a repeated parameter, no `grant_type`, a bad `ttl_seconds`, two ways of
 *   authenticating), `unsupported_grant_type`, `invalid_client` (no or malformed credentials)
 */
export async function readClientCredentials(c: Context<AppEnv>): Promise<ClientCredentialsRequest> {
  const form = new URLSearchParams(await readBodyText(c));
  for (const name of new Set(form.keys())) {
    // §3.2: parameters must not be included more than once.
    if (form.getAll(name).length > 1) throw invalidRequest(`the parameter "${quotable(name)}" is given more than once`);
  }
  const grantType = form.get("grant_type");
  if (grantType === null) throw invalidRequest('the parameter "grant_type" is missing: send client_credentials');
  if (grantType !== "client_credentials") {
    throw new OAuthError(
      "unsupported_grant_type",
      `The grant type "${quotable(grantType)}" is not supported here: use client_credentials`,
    );
  }
  const ttl = form.get("ttl_seconds");
  if (ttl !== null && !TTL.test(ttl)) throw invalidRequest("ttl_seconds must be a positive whole number of seconds");
  const { clientId, clientSecret } = credentials(c.req.header("Authorization"), form);
  return {
    clientId,
    clientSecret,
    scope: form.get("scope") ?? undefined,
    ttlSeconds: ttl === null ? undefined : Number(ttl),
  };
}

function credentials(authorization: string | undefined, form: URLSearchParams) {
  const bodyId = form.get("client_id");
  const bodySecret = form.get("client_secret");
  if (authorization === undefined || authorization.trim() === "") {
    if (bodyId === null || bodySecret === null) {
      throw invalidClient("send client_id and client_secret in the body, or use HTTP Basic authentication");
    }
    return { clientId: bodyId, clientSecret: bodySecret };
  }
  const match = BASIC.exec(authorization);
  if (match === null) throw invalidClient("the Authorization header must be Basic <base64 of id:key>");
  const pair = decodeBasic(match[1]);
  if (pair === null) throw invalidClient("the Basic credentials are not base64 of <client_id>:<client_secret>");
  // §2.3: one way of authenticating per request.
  if (bodySecret !== null) throw invalidRequest("send the client credentials once: in the body or as HTTP Basic");
  if (bodyId !== null && bodyId !== pair.clientId) {
    throw invalidRequest("client_id in the body differs from the one in the Authorization header");
  }
  return pair;
}

/** §2.3.1: base64 of `id:secret`, each form-encoded first. */
function decodeBasic(encoded: string): { clientId: string; clientSecret: string } | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(encoded, "base64"));
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  try {
    return { clientId: formDecode(text.slice(0, colon)), clientSecret: formDecode(text.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

function invalidRequest(why: string): OAuthError {
  return new OAuthError("invalid_request", `The token request is malformed: ${why}`);
}

function invalidClient(why: string): OAuthError {
  return new OAuthError("invalid_client", `Client authentication failed: ${why}`);
}
