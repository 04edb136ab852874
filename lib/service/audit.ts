/**
 * Recording privileged and security-relevant acts in the audit trail, and
 * who did them. The record carries the request id and source address of
 * the context's origin; never an OTP, token, key or secret.
 *
 * @module
 */

import type { TokenClaims } from "../claims.ts";
import { auditRecordId } from "./audit_id.ts";
import type { AuthContext } from "./context.ts";

/** What one audit record says; time, id and origin come from the context. */
export interface AuditEntry {
  /**
   * Who acted; see {@link adminActor}, {@link userActor}, {@link clientActor}, {@link BOOTSTRAP_KEY_ACTOR},
   * {@link ANONYMOUS_ACTOR}.
   */
  actor: string;
  /** Dotted action name, such as `user.approve`. */
  action: string;
  /** The user id, account id or client id acted on. */
  target?: string | null;
  /** A short non-secret detail: the target email of an admin act, scopes, a reason. */
  detail?: string | null;
  /** `ok` (default) or the stable code of a refusal. */
  outcome?: string;
}

/** The actor of an act done with the internal shared key (the spec's bootstrap path). */
export const BOOTSTRAP_KEY_ACTOR = "bootstrap-key";

/** The actor of an act by someone who presented no credential, such as the wrong guesses that lock an email. */
export const ANONYMOUS_ACTOR = "anonymous";

/** The actor of an act done with an admin token: its subject. */
export function adminActor(claims: TokenClaims): string {
  return `admin:${claims.sub}`;
}

/** The actor of an act a user did for themselves. */
export function userActor(userId: string): string {
  return `user:${userId}`;
}

/** The actor of an act done by a service client. */
export function clientActor(clientId: string): string {
  return `client:${clientId}`;
}

/**
 * Appends one record to the audit trail; records of one process and one
 * millisecond keep their order (see {@link auditRecordId}).
 *
 * @throws `StoreUnavailableError` when the store cannot take it
 */
export async function recordAudit(ctx: AuthContext, entry: AuditEntry): Promise<void> {
  const at = ctx.now();
  await ctx.store.appendAudit({
    auditId: auditRecordId(at),
    at,
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    detail: entry.detail ?? null,
    requestId: ctx.origin?.requestId ?? null,
    sourceIp: ctx.origin?.sourceIp ?? null,
    outcome: entry.outcome ?? "ok",
  });
}
