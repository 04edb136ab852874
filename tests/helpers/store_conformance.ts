/**
 * The conformance suite every `Store` backend must pass, unchanged. A backend
 * test calls {@link storeConformance} with a factory that returns a fresh,
 * empty store for each case.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AuditRecord } from "../../lib/store/audit.ts";
import type { Store, UserRecord } from "../../lib/store/store.ts";

/**
 * A `token.mint` audit record numbered `i`, at `base + i` ms, with an id
 * that counts with `i` unless one is given (to make a duplicate).
 */
export function mintRecord(i: number, base: number, auditId?: string): AuditRecord {
  return {
    auditId: auditId ?? `00000000-0000-7000-8000-${String(i).padStart(12, "0")}`,
    at: base + i,
    actor: "bootstrap-key",
    action: "token.mint",
    target: `worker-${i}`,
    detail: null,
    requestId: null,
    sourceIp: "127.0.0.1",
    outcome: "ok",
  };
}

/** Makes a fresh, empty store; `dispose` releases it. */
export type StoreFactory = () => Promise<{ store: Store; dispose: () => Promise<void> }>;

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const HASH_A = "a".repeat(64);
/** A per-email failure budget no test outside its own reaches. */
const GENEROUS = { max: 1000, windowSeconds: 86400 };
const HASH_B = "b".repeat(64);

type Case = [name: string, body: (store: Store) => Promise<void>];

async function verifiedUser(store: Store, email: string, now = T0): Promise<UserRecord> {
  await store.registerUser({ userId: crypto.randomUUID(), email, now });
  await store.createOtpChallenge({
    challengeId: crypto.randomUUID(),
    email,
    codeHash: HASH_A,
    now,
    expiresAt: now + 600_000,
    resendSeconds: 60,
  });
  const result = await store.attemptOtp({ email, codeHash: HASH_A, now, maxAttempts: 5, failureBudget: GENEROUS });
  assert.ok(result.ok);
  return result.user;
}

function challenge(email: string, now = T0, codeHash = HASH_A) {
  return { challengeId: crypto.randomUUID(), email, codeHash, now, expiresAt: now + 600_000, resendSeconds: 60 };
}

const CASES: Case[] = [
  ["schemaVersion reports the newest schema of the code after open", async (store) => {
    const state = await store.schemaVersion();
    assert.equal(state.current, state.latest);
    assert.ok(Number.isSafeInteger(state.latest) && state.latest >= 0);
  }],
  ["registerUser creates a waitlisted, unverified user once per email", async (store) => {
    const first = await store.registerUser({ userId: crypto.randomUUID(), email: "a@example.com", now: T0 });
    assert.equal(first.created, true);
    assert.equal(first.user.status, "waitlisted");
    assert.equal(first.user.verified, false);
    assert.equal(first.user.accountId, null);
    assert.equal(first.user.tokensNotBefore, null);
    assert.equal(first.user.createdAt, T0);
    const again = await store.registerUser({ userId: crypto.randomUUID(), email: "a@example.com", now: T0 + 5 });
    assert.equal(again.created, false);
    assert.deepEqual(again.user, first.user);
  }],
  ["registerUser yields one user for 20 concurrent registrations of one email", async (store) => {
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        () => store.registerUser({ userId: crypto.randomUUID(), email: "race@example.com", now: T0 }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.user.userId)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
  }],
  ["find functions return copies by email, id and account id, null when unknown", async (store) => {
    const user = await verifiedUser(store, "find@example.com");
    assert.equal((await store.findUserByEmail("find@example.com"))?.userId, user.userId);
    assert.equal((await store.findUserById(user.userId))?.email, "find@example.com");
    assert.equal(await store.findUserByEmail("nobody@example.com"), null);
    assert.equal(await store.findUserById(crypto.randomUUID()), null);
    assert.equal(await store.findUserByAccountId(crypto.randomUUID()), null);
    const approved = await store.approveUser({ email: "find@example.com", accountId: crypto.randomUUID(), now: T0 });
    assert.ok(approved.ok);
    assert.equal((await store.findUserByAccountId(approved.user.accountId!))?.userId, user.userId);
  }],
  ["createOtpChallenge refuses a second challenge inside the resend interval", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "otp@example.com", now: T0 });
    assert.deepEqual(await store.createOtpChallenge(challenge("otp@example.com")), { ok: true });
    assert.deepEqual(await store.createOtpChallenge(challenge("otp@example.com", T0 + 20_500, HASH_B)), {
      ok: false,
      reason: "resend_too_soon",
      retryAfterSeconds: 40,
    });
    // The refused request changed nothing: the first code still works.
    const result = await store.attemptOtp({
      email: "otp@example.com",
      codeHash: HASH_A,
      now: T0 + 21_000,
      maxAttempts: 5,
      failureBudget: GENEROUS,
    });
    assert.equal(result.ok, true);
  }],
  [
    "createOtpChallenge registers an email without a user once, in its own transaction, even when refused",
    async (store) => {
      const first = crypto.randomUUID();
      assert.deepEqual(await store.createOtpChallenge({ ...challenge("new@example.com"), newUserId: first }), {
        ok: true,
      });
      const user = await store.findUserByEmail("new@example.com");
      assert.deepEqual(
        user && { userId: user.userId, verified: user.verified, status: user.status, createdAt: user.createdAt },
        { userId: first, verified: false, status: "waitlisted", createdAt: T0 },
      );
      assert.deepEqual((await store.listUsers({ status: "waitlisted", limit: 10, after: null })).map((u) => u.userId), [
        first,
      ]);
      // Refused inside the resend interval: the user stays as it was, under its first id.
      assert.deepEqual(
        await store.createOtpChallenge({ ...challenge("new@example.com", T0 + 1000), newUserId: crypto.randomUUID() }),
        { ok: false, reason: "resend_too_soon", retryAfterSeconds: 59 },
      );
      assert.equal((await store.findUserById(first))?.email, "new@example.com");
      // An email registered before keeps its user.
      const { user: old } = await store.registerUser({
        userId: crypto.randomUUID(),
        email: "old@example.com",
        now: T0,
      });
      assert.deepEqual(
        await store.createOtpChallenge({ ...challenge("old@example.com"), newUserId: crypto.randomUUID() }),
        {
          ok: true,
        },
      );
      assert.equal((await store.findUserByEmail("old@example.com"))?.userId, old.userId);
      // 20 requests of one new email at once: one user, one challenge.
      const results = await Promise.all(
        Array.from(
          { length: 20 },
          () => store.createOtpChallenge({ ...challenge("race@example.com"), newUserId: crypto.randomUUID() }),
        ),
      );
      assert.equal(results.filter((result) => result.ok).length, 1);
      const waitlisted = await store.listUsers({ status: "waitlisted", limit: 100, after: null });
      assert.equal(waitlisted.filter((u) => u.email === "race@example.com").length, 1);
      const raced = await store.findUserByEmail("race@example.com");
      assert.ok(raced !== null);
      const verified = await store.attemptOtp({
        email: "race@example.com",
        codeHash: HASH_A,
        now: T0 + 1,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      });
      assert.equal(verified.ok && verified.user.userId, raced.userId);
    },
  ],
  ["attemptOtp starts the session it is given with the match, and only with a match", async (store) => {
    const { user } = await store.registerUser({ userId: crypto.randomUUID(), email: "otp@example.com", now: T0 });
    await store.createOtpChallenge(challenge("otp@example.com"));
    const attempt = (codeHash: string, sessionId: string, now: number) =>
      store.attemptOtp({
        email: "otp@example.com",
        codeHash,
        now,
        maxAttempts: 5,
        failureBudget: GENEROUS,
        session: { sessionId, absoluteExpiresAt: now + 86_400_000 },
      });
    assert.equal((await attempt(HASH_B, "s-wrong", T0 + 1000)).ok, false);
    assert.equal(await store.findSession("s-wrong"), null, "a wrong code starts no session");
    const matched = await attempt(HASH_A, "s-right", T0 + 2000);
    assert.ok(matched.ok && matched.user.verified);
    assert.deepEqual(await store.findSession("s-right"), {
      sessionId: "s-right",
      userId: user.userId,
      createdAt: T0 + 2000,
      absoluteExpiresAt: T0 + 2000 + 86_400_000,
      revokedAt: null,
    });
    assert.deepEqual(await attempt(HASH_A, "s-again", T0 + 3000), { ok: false, reason: "used" });
    assert.equal(await store.findSession("s-again"), null, "a used code starts no session");
    // An email that never asked for a code: no session either.
    assert.deepEqual(
      await store.attemptOtp({
        email: "nobody@example.com",
        codeHash: HASH_A,
        now: T0,
        maxAttempts: 5,
        failureBudget: GENEROUS,
        session: { sessionId: "s-nobody", absoluteExpiresAt: T0 + 1000 },
      }),
      { ok: false, reason: "not_requested" },
    );
    assert.equal(await store.findSession("s-nobody"), null);
  }],
  ["createOtpChallenge after the interval replaces the code and resets attempts", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "otp@example.com", now: T0 });
    await store.createOtpChallenge(challenge("otp@example.com"));
    await store.attemptOtp({
      email: "otp@example.com",
      codeHash: HASH_B,
      now: T0,
      maxAttempts: 2,
      failureBudget: GENEROUS,
    });
    await store.attemptOtp({
      email: "otp@example.com",
      codeHash: HASH_B,
      now: T0,
      maxAttempts: 2,
      failureBudget: GENEROUS,
    });
    assert.deepEqual(await store.createOtpChallenge(challenge("otp@example.com", T0 + 60_000, HASH_B)), { ok: true });
    const old = await store.attemptOtp({
      email: "otp@example.com",
      codeHash: HASH_A,
      now: T0 + 61_000,
      maxAttempts: 2,
      failureBudget: GENEROUS,
    });
    assert.deepEqual(old, { ok: false, reason: "mismatch", attemptsLeft: 1, lockedNow: false });
    const fresh = await store.attemptOtp({
      email: "otp@example.com",
      codeHash: HASH_B,
      now: T0 + 61_000,
      maxAttempts: 2,
      failureBudget: GENEROUS,
    });
    assert.equal(fresh.ok, true);
  }],
  [
    "attemptOtp reports not_requested, mismatch with attempts left, then exhausted even for the right code",
    async (store) => {
      await store.registerUser({ userId: crypto.randomUUID(), email: "guess@example.com", now: T0 });
      const attempt = (codeHash: string) =>
        store.attemptOtp({
          email: "guess@example.com",
          codeHash,
          now: T0 + 1000,
          maxAttempts: 3,
          failureBudget: GENEROUS,
        });
      assert.deepEqual(await attempt(HASH_A), { ok: false, reason: "not_requested" });
      await store.createOtpChallenge(challenge("guess@example.com"));
      assert.deepEqual(await attempt(HASH_B), { ok: false, reason: "mismatch", attemptsLeft: 2, lockedNow: false });
      assert.deepEqual(await attempt(HASH_B), { ok: false, reason: "mismatch", attemptsLeft: 1, lockedNow: false });
      assert.deepEqual(await attempt(HASH_B), { ok: false, reason: "mismatch", attemptsLeft: 0, lockedNow: false });
      assert.deepEqual(await attempt(HASH_A), { ok: false, reason: "exhausted" });
      assert.equal((await store.findUserByEmail("guess@example.com"))?.verified, false);
    },
  ],
  ["attemptOtp refuses an expired code without spending an attempt", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "late@example.com", now: T0 });
    await store.createOtpChallenge(challenge("late@example.com"));
    const late = await store.attemptOtp({
      email: "late@example.com",
      codeHash: HASH_A,
      now: T0 + 600_000,
      maxAttempts: 5,
      failureBudget: GENEROUS,
    });
    assert.deepEqual(late, { ok: false, reason: "expired" });
  }],
  ["attemptOtp consumes the code, verifies the user, and refuses reuse", async (store) => {
    const { user } = await store.registerUser({ userId: crypto.randomUUID(), email: "ok@example.com", now: T0 });
    await store.createOtpChallenge(challenge("ok@example.com"));
    const result = await store.attemptOtp({
      email: "ok@example.com",
      codeHash: HASH_A,
      now: T0 + 5000,
      maxAttempts: 5,
      failureBudget: GENEROUS,
    });
    assert.ok(result.ok);
    assert.equal(result.user.userId, user.userId);
    assert.equal(result.user.verified, true);
    assert.equal(result.user.updatedAt, T0 + 5000);
    assert.deepEqual(
      await store.attemptOtp({
        email: "ok@example.com",
        codeHash: HASH_A,
        now: T0 + 6000,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      }),
      { ok: false, reason: "used" },
    );
  }],
  ["attemptOtp lets exactly one of 20 concurrent right answers through", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "once@example.com", now: T0 });
    await store.createOtpChallenge(challenge("once@example.com"));
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          store.attemptOtp({
            email: "once@example.com",
            codeHash: HASH_A,
            now: T0 + 1,
            maxAttempts: 5,
            failureBudget: GENEROUS,
          }),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 1);
  }],
  ["attemptOtp counts 20 concurrent wrong answers against one attempt budget", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "burst@example.com", now: T0 });
    await store.createOtpChallenge(challenge("burst@example.com"));
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          store.attemptOtp({
            email: "burst@example.com",
            codeHash: HASH_B,
            now: T0 + 1,
            maxAttempts: 5,
            failureBudget: GENEROUS,
          }),
      ),
    );
    assert.equal(results.filter((r) => !r.ok && r.reason === "mismatch").length, 5);
    assert.equal(results.filter((r) => !r.ok && r.reason === "exhausted").length, 15);
  }],
  ["deleteOtpChallenge removes only the named challenge and lifts the resend interval", async (store) => {
    await store.registerUser({ userId: crypto.randomUUID(), email: "del@example.com", now: T0 });
    const first = challenge("del@example.com");
    await store.createOtpChallenge(first);
    await store.deleteOtpChallenge("del@example.com", crypto.randomUUID());
    assert.equal(
      (await store.attemptOtp({
        email: "del@example.com",
        codeHash: HASH_B,
        now: T0,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      })).ok,
      false,
    );
    await store.deleteOtpChallenge("del@example.com", first.challengeId);
    assert.deepEqual(
      await store.attemptOtp({
        email: "del@example.com",
        codeHash: HASH_A,
        now: T0,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      }),
      { ok: false, reason: "not_requested" },
    );
    assert.deepEqual(await store.createOtpChallenge(challenge("del@example.com", T0 + 1000)), { ok: true });
  }],
  ["sessions are created, found and revoked once", async (store) => {
    const user = await verifiedUser(store, "s@example.com");
    const sessionId = crypto.randomUUID();
    await store.createSession({ sessionId, userId: user.userId, now: T0, absoluteExpiresAt: T0 + 86_400_000 });
    assert.deepEqual(await store.findSession(sessionId), {
      sessionId,
      userId: user.userId,
      createdAt: T0,
      absoluteExpiresAt: T0 + 86_400_000,
      revokedAt: null,
    });
    await store.revokeSession(sessionId, T0 + 10);
    await store.revokeSession(sessionId, T0 + 20);
    assert.equal((await store.findSession(sessionId))?.revokedAt, T0 + 10);
    assert.equal(await store.findSession(crypto.randomUUID()), null);
  }],
  ["revokeToken reports true exactly once, also under 20 concurrent calls", async (store) => {
    const tokenId = crypto.randomUUID();
    assert.equal(await store.isTokenRevoked(tokenId), false);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 })),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.isTokenRevoked(tokenId), true);
    assert.equal(await store.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 }), false);
  }],
  [
    "listRevokedTokenIds lists every revoked id until a purge drops the expired ones, null over the limit",
    async (store) => {
      assert.deepEqual(await store.listRevokedTokenIds(10), []);
      await store.revokeToken({ tokenId: "gone-soon", expiresAt: T0 + 1000, now: T0 });
      await store.revokeToken({ tokenId: "live-1", expiresAt: T0 + 10_000_000, now: T0 });
      await store.revokeToken({ tokenId: "live-2", expiresAt: T0 + 10_000_000, now: T0 });
      assert.deepEqual((await store.listRevokedTokenIds(3))?.sort(), ["gone-soon", "live-1", "live-2"]);
      assert.equal(await store.listRevokedTokenIds(2), null);
      await store.purgeExpired(T0 + 5_000_000);
      assert.deepEqual((await store.listRevokedTokenIds(2))?.sort(), ["live-1", "live-2"]);
    },
  ],
  ["approveUser refuses unknown and unverified users without changing them", async (store) => {
    assert.deepEqual(await store.approveUser({ email: "ghost@example.com", accountId: crypto.randomUUID(), now: T0 }), {
      ok: false,
      reason: "not_found",
    });
    await store.registerUser({ userId: crypto.randomUUID(), email: "new@example.com", now: T0 });
    assert.deepEqual(await store.approveUser({ email: "new@example.com", accountId: crypto.randomUUID(), now: T0 }), {
      ok: false,
      reason: "not_verified",
    });
    const user = await store.findUserByEmail("new@example.com");
    assert.equal(user?.status, "waitlisted");
    assert.equal(user?.accountId, null);
  }],
  ["approveUser creates the account id once and keeps it through reject and re-approve", async (store) => {
    await verifiedUser(store, "ap@example.com");
    const accountId = crypto.randomUUID();
    const first = await store.approveUser({ email: "ap@example.com", accountId, now: T0 + 1 });
    assert.ok(first.ok);
    assert.equal(first.changed, true);
    assert.equal(first.user.status, "approved");
    assert.equal(first.user.accountId, accountId);
    assert.equal(first.user.updatedAt, T0 + 1);
    const again = await store.approveUser({ email: "ap@example.com", accountId: crypto.randomUUID(), now: T0 + 2 });
    assert.ok(again.ok);
    assert.equal(again.changed, false);
    assert.deepEqual(again.user, first.user);
    assert.ok((await store.rejectUser({ email: "ap@example.com", reason: null, now: T0 + 3 })).ok);
    const back = await store.approveUser({ email: "ap@example.com", accountId: crypto.randomUUID(), now: T0 + 4 });
    assert.ok(back.ok);
    assert.equal(back.user.accountId, accountId);
  }],
  ["approveUser yields one account id for 20 concurrent approvals", async (store) => {
    await verifiedUser(store, "many@example.com");
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        () => store.approveUser({ email: "many@example.com", accountId: crypto.randomUUID(), now: T0 + 1 }),
      ),
    );
    const ids = new Set(results.map((r) => r.ok ? r.user.accountId : "refused"));
    assert.equal(ids.size, 1);
    assert.equal(results.filter((r) => r.ok && r.changed).length, 1);
  }],
  ["rejectUser stores the reason and the tokens-not-before instant, and keeps every session", async (store) => {
    const user = await verifiedUser(store, "rj@example.com");
    assert.equal(user.tokensNotBefore, null);
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    for (const sessionId of ids) {
      await store.createSession({ sessionId, userId: user.userId, now: T0, absoluteExpiresAt: T0 + 86_400_000 });
    }
    const result = await store.rejectUser({ email: "rj@example.com", reason: "spam", now: T0 + 7 });
    assert.ok(result.ok);
    assert.equal(result.changed, true);
    assert.equal(result.user.status, "rejected");
    assert.equal(result.user.rejectionReason, "spam");
    assert.equal(result.user.tokensNotBefore, T0 + 7);
    assert.equal(result.user.updatedAt, T0 + 7);
    assert.deepEqual(await store.findUserByEmail("rj@example.com"), result.user);
    assert.equal((await store.findSession(ids[0]))?.revokedAt, null);
    assert.equal((await store.findSession(ids[1]))?.revokedAt, null);
    assert.deepEqual(await store.rejectUser({ email: "no@example.com", reason: null, now: T0 }), {
      ok: false,
      reason: "not_found",
    });
  }],
  ["rejectUser of a rejected user changes nothing: the first reason and instant stay", async (store) => {
    await verifiedUser(store, "twice@example.com");
    const first = await store.rejectUser({ email: "twice@example.com", reason: "spam", now: T0 + 7 });
    assert.ok(first.ok);
    const again = await store.rejectUser({ email: "twice@example.com", reason: "other", now: T0 + 8 });
    assert.ok(again.ok);
    assert.equal(again.changed, false);
    assert.deepEqual(again.user, first.user);
    assert.deepEqual(await store.findUserByEmail("twice@example.com"), first.user);
  }],
  ["the tokens-not-before instant survives re-approval, and a later rejection moves it forward", async (store) => {
    await verifiedUser(store, "back@example.com");
    const accountId = crypto.randomUUID();
    await store.approveUser({ email: "back@example.com", accountId, now: T0 + 1 });
    await store.rejectUser({ email: "back@example.com", reason: "first", now: T0 + 3 });
    const back = await store.approveUser({ email: "back@example.com", accountId: crypto.randomUUID(), now: T0 + 4 });
    assert.ok(back.ok);
    assert.equal(back.user.status, "approved");
    assert.equal(back.user.tokensNotBefore, T0 + 3);
    assert.equal((await store.findUserByAccountId(accountId))?.tokensNotBefore, T0 + 3);
    const later = await store.rejectUser({ email: "back@example.com", reason: "second", now: T0 + 9 });
    assert.ok(later.ok);
    assert.equal(later.changed, true);
    assert.equal(later.user.rejectionReason, "second");
    assert.equal(later.user.tokensNotBefore, T0 + 9);
    // A replica whose clock lags never moves the instant backwards.
    await store.approveUser({ email: "back@example.com", accountId, now: T0 + 10 });
    const skewed = await store.rejectUser({ email: "back@example.com", reason: "third", now: T0 + 5 });
    assert.ok(skewed.ok);
    assert.equal(skewed.user.tokensNotBefore, T0 + 9);
  }],
  ["listUsers filters by status and pages by creation time then id without gaps or repeats", async (store) => {
    const emails: string[] = [];
    for (let i = 0; i < 7; i++) {
      const email = `p${i}@example.com`;
      emails.push(email);
      // Pairs share a creation time, so the user id must break ties.
      await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 + Math.floor(i / 2) });
    }
    await verifiedUser(store, "approved@example.com", T0 - 1);
    await store.approveUser({ email: "approved@example.com", accountId: crypto.randomUUID(), now: T0 });
    const seen: UserRecord[] = [];
    let after = null;
    for (let page = 0; page < 10; page++) {
      const rows: UserRecord[] = await store.listUsers({ status: "waitlisted", limit: 3, after });
      seen.push(...rows);
      if (rows.length < 3) break;
      const last: UserRecord = rows[rows.length - 1];
      after = { createdAt: last.createdAt, userId: last.userId };
    }
    assert.deepEqual(seen.map((u) => u.email).sort(), [...emails].sort());
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      assert.ok(a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.userId < b.userId));
    }
    const all = await store.listUsers({ status: null, limit: 100, after: null });
    assert.equal(all.length, 8);
    assert.equal(all[0].email, "approved@example.com");
    const approved = await store.listUsers({ status: "approved", limit: 100, after: null });
    assert.deepEqual(approved.map((u) => u.email), ["approved@example.com"]);
  }],
  [
    "hitRateLimit allows the limit per window, refuses without counting, and resets in the next window",
    async (store) => {
      const hit = (now: number) => store.hitRateLimit({ key: "ip:192.0.2.1", limit: 3, windowSeconds: 60, now });
      const start = Math.ceil(T0 / 60_000) * 60_000;
      for (let i = 0; i < 3; i++) assert.deepEqual(await hit(start + 1000), { allowed: true, retryAfterSeconds: 59 });
      assert.deepEqual(await hit(start + 30_000), { allowed: false, retryAfterSeconds: 30 });
      assert.equal(
        (await store.hitRateLimit({ key: "ip:192.0.2.2", limit: 3, windowSeconds: 60, now: start })).allowed,
        true,
      );
      assert.equal((await hit(start + 60_000)).allowed, true);
    },
  ],
  ["hitRateLimit admits exactly the limit out of 20 concurrent hits", async (store) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.hitRateLimit({ key: "burst", limit: 7, windowSeconds: 300, now: T0 })),
    );
    assert.equal(results.filter((r) => r.allowed).length, 7);
  }],
  ["purgeExpired removes expired challenges, revocations and sessions only", async (store) => {
    const user = await verifiedUser(store, "purge@example.com");
    await store.createOtpChallenge(challenge("purge@example.com", T0 + 60_000));
    await store.revokeToken({ tokenId: "old", expiresAt: T0 + 1000, now: T0 });
    await store.revokeToken({ tokenId: "live", expiresAt: T0 + 10_000_000, now: T0 });
    await store.createSession({ sessionId: "s-old", userId: user.userId, now: T0, absoluteExpiresAt: T0 + 1000 });
    await store.createSession({
      sessionId: "s-live",
      userId: user.userId,
      now: T0,
      absoluteExpiresAt: T0 + 10_000_000,
    });
    await store.purgeExpired(T0 + 5_000_000);
    assert.equal(await store.isTokenRevoked("old"), false);
    assert.equal(await store.isTokenRevoked("live"), true);
    assert.equal(await store.findSession("s-old"), null);
    assert.notEqual(await store.findSession("s-live"), null);
    assert.deepEqual(
      await store.attemptOtp({
        email: "purge@example.com",
        codeHash: HASH_A,
        now: T0 + 5_000_000,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      }),
      { ok: false, reason: "not_requested" },
    );
    assert.notEqual(await store.findUserByEmail("purge@example.com"), null);
  }],
  ["ping answers on a healthy store", async (store) => {
    await store.ping();
  }],
  [
    "the per-email failure budget counts wrong guesses across codes and then refuses even the right code",
    async (store) => {
      const email = "guessed@example.com";
      const budget = { max: 3, windowSeconds: 86400 };
      await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
      const results = [];
      // Three codes, one wrong guess each: each new code resets its own attempts, not the email's budget.
      for (let i = 0; i < 3; i++) {
        assert.ok((await store.createOtpChallenge(challenge(email, T0 + i * 120_000))).ok);
        results.push(
          await store.attemptOtp({
            email,
            codeHash: HASH_B,
            now: T0 + i * 120_000 + 1,
            maxAttempts: 5,
            failureBudget: budget,
          }),
        );
      }
      assert.deepEqual(results.map((r) => !r.ok && r.reason === "mismatch" && r.lockedNow), [false, false, true]);
      assert.ok((await store.createOtpChallenge(challenge(email, T0 + 400_000))).ok);
      const right = await store.attemptOtp({
        email,
        codeHash: HASH_A,
        now: T0 + 400_001,
        maxAttempts: 5,
        failureBudget: budget,
      });
      assert.ok(!right.ok && right.reason === "locked", JSON.stringify(right));
      // The lock lasts until the first failure (T0 + 1) is 24 h old.
      assert.equal(right.retryAfterSeconds, Math.ceil((T0 + 1 + 86_400_000 - (T0 + 400_001)) / 1000));
      const state = await store.otpLockState({ email, now: T0 + 400_001, failureBudget: budget });
      assert.deepEqual(state, { locked: true, retryAfterSeconds: right.retryAfterSeconds });
      // A new code is refused while locked, checked before the resend interval, and the code it would replace
      // stays as it was (still refused as locked, not replaced).
      assert.deepEqual(
        await store.createOtpChallenge({ ...challenge(email, T0 + 400_002, HASH_B), failureBudget: budget }),
        { ok: false, reason: "locked", retryAfterSeconds: Math.ceil((T0 + 1 + 86_400_000 - (T0 + 400_002)) / 1000) },
      );
      assert.deepEqual(
        await store.createOtpChallenge({ ...challenge(email, T0 + 400_002 + 120_000, HASH_B), failureBudget: budget }),
        {
          ok: false,
          reason: "locked",
          retryAfterSeconds: Math.ceil((T0 + 1 + 86_400_000 - (T0 + 520_002)) / 1000),
        },
      );
      // Neither refusal wrote a challenge: one asked for 1 ms later without the budget is not too soon.
      assert.deepEqual(await store.createOtpChallenge(challenge(email, T0 + 520_003)), { ok: true });
      // Rolling window: once the oldest failure ages out, one more guess is allowed.
      const later = T0 + 86_400_000 + 2;
      assert.deepEqual(await store.otpLockState({ email, now: later, failureBudget: budget }), { locked: false });
      assert.ok((await store.createOtpChallenge({ ...challenge(email, later), failureBudget: budget })).ok);
      const unlocked = await store.attemptOtp({
        email,
        codeHash: HASH_A,
        now: later,
        maxAttempts: 5,
        failureBudget: budget,
      });
      assert.ok(unlocked.ok, `the right code works again: ${JSON.stringify(unlocked)}`);
    },
  ],
  ["a correct code clears the email's failures; other emails are unaffected", async (store) => {
    const budget = { max: 2, windowSeconds: 86400 };
    for (const email of ["reset@example.com", "other@example.com"]) {
      await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
      await store.createOtpChallenge(challenge(email));
    }
    const wrong = await store.attemptOtp({
      email: "reset@example.com",
      codeHash: HASH_B,
      now: T0 + 1,
      maxAttempts: 5,
      failureBudget: budget,
    });
    assert.ok(!wrong.ok && wrong.reason === "mismatch" && !wrong.lockedNow);
    await store.attemptOtp({
      email: "other@example.com",
      codeHash: HASH_B,
      now: T0 + 1,
      maxAttempts: 5,
      failureBudget: budget,
    });
    const right = await store.attemptOtp({
      email: "reset@example.com",
      codeHash: HASH_A,
      now: T0 + 2,
      maxAttempts: 5,
      failureBudget: budget,
    });
    assert.ok(right.ok);
    await store.createOtpChallenge(challenge("reset@example.com", T0 + 120_000));
    const afterReset = await store.attemptOtp({
      email: "reset@example.com",
      codeHash: HASH_B,
      now: T0 + 120_001,
      maxAttempts: 5,
      failureBudget: budget,
    });
    assert.ok(!afterReset.ok && afterReset.reason === "mismatch" && !afterReset.lockedNow, "the budget starts over");
    assert.deepEqual(
      await store.otpLockState({ email: "other@example.com", now: T0 + 120_001, failureBudget: budget }),
      { locked: false },
    );
  }],
  ["20 concurrent wrong guesses spend a budget of 5 exactly once", async (store) => {
    const email = "swarm@example.com";
    const budget = { max: 5, windowSeconds: 86400 };
    await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
    await store.createOtpChallenge(challenge(email));
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        () => store.attemptOtp({ email, codeHash: HASH_B, now: T0 + 1, maxAttempts: 100, failureBudget: budget }),
      ),
    );
    const mismatches = results.filter((r) => !r.ok && r.reason === "mismatch");
    assert.equal(mismatches.length, 5);
    assert.equal(mismatches.filter((r) => !r.ok && r.reason === "mismatch" && r.lockedNow).length, 1);
    assert.equal(results.filter((r) => !r.ok && r.reason === "locked").length, 15);
  }],
  ["purgeExpired drops OTP failures older than a day", async (store) => {
    const email = "purged@example.com";
    const budget = { max: 1, windowSeconds: 86400 };
    await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
    await store.createOtpChallenge(challenge(email));
    await store.attemptOtp({ email, codeHash: HASH_B, now: T0, maxAttempts: 5, failureBudget: budget });
    assert.equal((await store.otpLockState({ email, now: T0 + 1, failureBudget: budget })).locked, true);
    await store.purgeExpired(T0 + 86_400_000 + 1);
    // Even with a window longer than a day, the purged failure no longer counts.
    const long = { max: 1, windowSeconds: 10 * 86400 };
    assert.deepEqual(await store.otpLockState({ email, now: T0 + 86_400_002, failureBudget: long }), { locked: false });
  }],
  [
    "setScopePolicy narrows an account's scopes; approveUser sets one in the same step; null restores the default",
    async (store) => {
      const user = await verifiedUser(store, "policy@example.com");
      assert.equal(user.scopePolicy, null);
      const approved = await store.approveUser({
        email: "policy@example.com",
        accountId: crypto.randomUUID(),
        now: T0 + 1,
        scopePolicy: ["llm:proxy"],
      });
      assert.ok(approved.ok);
      assert.deepEqual(approved.user.scopePolicy, ["llm:proxy"]);
      const accountId = approved.user.accountId!;
      const narrowed = await store.setScopePolicy({ accountId, scopes: [], now: T0 + 2 });
      assert.deepEqual(narrowed?.scopePolicy, [], "an empty policy allows no scope at all");
      assert.deepEqual((await store.findUserByAccountId(accountId))?.scopePolicy, []);
      const again = await store.approveUser({
        email: "policy@example.com",
        accountId: crypto.randomUUID(),
        now: T0 + 3,
      });
      assert.ok(again.ok && !again.changed);
      assert.deepEqual(again.user.scopePolicy, [], "a repeated approval without a policy keeps it");
      const reset = await store.setScopePolicy({ accountId, scopes: null, now: T0 + 4 });
      assert.equal(reset?.scopePolicy, null);
      assert.equal(await store.setScopePolicy({ accountId: crypto.randomUUID(), scopes: null, now: T0 }), null);
    },
  ],
  ["createClient stores a client with its first key once per name; rotate, revoke and touch it", async (store) => {
    const key = (n: number) => ({ keyId: crypto.randomUUID(), prefix: `bsk_key${n}`, hash: String(n).repeat(64) });
    const clientId = crypto.randomUUID();
    const base = { name: "billing-worker", audience: "ai.hg.fi/api", scopes: ["billing:read"], maxTtlSeconds: 600 };
    const created = await store.createClient({ ...base, clientId, key: key(1), now: T0 });
    assert.equal(created.created, true);
    assert.deepEqual(
      [created.client.name, created.client.audience, created.client.scopes, created.client.maxTtlSeconds],
      ["billing-worker", "ai.hg.fi/api", ["billing:read"], 600],
    );
    assert.deepEqual(created.client.keys.map((k) => [k.prefix, k.retiresAt]), [["bsk_key1", null]]);
    const taken = await store.createClient({ ...base, clientId: crypto.randomUUID(), key: key(9), now: T0 + 1 });
    assert.equal(taken.created, false);
    assert.equal(taken.client.clientId, clientId, "the existing client, unchanged");
    assert.equal(taken.client.keys.length, 1);
    assert.equal((await store.findClientByName("billing-worker"))?.clientId, clientId);
    assert.equal((await store.findClientById(clientId))?.name, "billing-worker");
    assert.equal(await store.findClientById(crypto.randomUUID()), null);
    const rotated = await store.rotateClientKey({ clientId, key: key(2), retireOthersAt: T0 + 3600_000, now: T0 + 2 });
    assert.deepEqual(rotated?.keys.map((k) => [k.prefix, k.retiresAt]), [["bsk_key1", T0 + 3600_000], [
      "bsk_key2",
      null,
    ]]);
    const again = await store.rotateClientKey({ clientId, key: key(3), retireOthersAt: T0 + 7200_000, now: T0 + 3 });
    assert.deepEqual(again?.keys.map((k) => k.retiresAt), [T0 + 3600_000, T0 + 7200_000, null], "never later");
    await store.touchClient({ clientId, now: T0 + 10 });
    await store.touchClient({ clientId, now: T0 + 5 });
    assert.equal((await store.findClientById(clientId))?.lastUsedAt, T0 + 10);
    const revoked = await store.revokeClient({ clientId, now: T0 + 20 });
    assert.equal(revoked?.revokedAt, T0 + 20);
    assert.equal((await store.revokeClient({ clientId, now: T0 + 30 }))?.revokedAt, T0 + 20, "the first time stays");
    assert.equal(await store.rotateClientKey({ clientId, key: key(4), retireOthersAt: T0, now: T0 + 40 }), null);
    await store.createClient({ ...base, name: "alpha", clientId: crypto.randomUUID(), key: key(5), now: T0 });
    assert.deepEqual((await store.listClients()).map((client) => client.name), ["alpha", "billing-worker"]);
  }],
  ["20 concurrent createClient calls of one name create one client", async (store) => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      store.createClient({
        clientId: crypto.randomUUID(),
        name: "racer",
        audience: "ai.hg.fi/internal",
        scopes: [],
        maxTtlSeconds: 60,
        key: { keyId: crypto.randomUUID(), prefix: `bsk_r${i}`, hash: "f".repeat(64) },
        now: T0,
      })));
    assert.equal(results.filter((result) => result.created).length, 1);
    assert.equal(new Set(results.map((result) => result.client.clientId)).size, 1);
    assert.equal((await store.listClients()).length, 1);
  }],
  ["the audit trail lists records oldest first with filters and a keyset cursor, and prunes by age", async (store) => {
    const record = (n: number, actor: string, action: string, target: string | null) => ({
      auditId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      at: T0 + Math.floor(n / 2) * 1000,
      actor,
      action,
      target,
      detail: n === 1 ? "pending@example.com" : null,
      requestId: `req-${n}`,
      sourceIp: "192.0.2.1",
      outcome: "ok",
    });
    for (let n = 1; n <= 6; n++) {
      await store.appendAudit(record(n, n % 2 ? "admin:ops" : "user:u1", n <= 2 ? "user.approve" : "otp.verify", "u1"));
    }
    const all = await store.listAudit({ since: null, actor: null, target: null, action: null, after: null, limit: 10 });
    assert.deepEqual(all.map((r) => r.requestId), ["req-1", "req-2", "req-3", "req-4", "req-5", "req-6"]);
    assert.deepEqual(all[0], record(1, "admin:ops", "user.approve", "u1"));
    const page = await store.listAudit({ since: null, actor: null, target: null, action: null, after: null, limit: 2 });
    const next = await store.listAudit({
      since: null,
      actor: null,
      target: null,
      action: null,
      after: { at: page[1].at, auditId: page[1].auditId },
      limit: 2,
    });
    assert.deepEqual(next.map((r) => r.requestId), ["req-3", "req-4"]);
    const filtered = await store.listAudit({
      since: T0 + 1000,
      actor: "admin:ops",
      target: "u1",
      action: "otp.verify",
      after: null,
      limit: 10,
    });
    assert.deepEqual(filtered.map((r) => r.requestId), ["req-3", "req-5"]);
    assert.equal(await store.pruneAudit(T0 + 2000), 3, "records 1 to 3 are older than T0 + 2 s");
    const left = await store.listAudit({
      since: null,
      actor: null,
      target: null,
      action: null,
      after: null,
      limit: 10,
    });
    assert.deepEqual(left.map((r) => r.requestId), ["req-4", "req-5", "req-6"]);
  }],
  [
    "each read of a token check shows the write that changes it at once: revocations, sessions, decisions, policies, clients",
    async (store) => {
      // Read, write, read again: a store that keeps what checks read (a cache) must show every write at once.
      const tokenId = crypto.randomUUID();
      assert.equal(await store.isTokenRevoked(tokenId), false);
      await store.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 });
      assert.equal(await store.isTokenRevoked(tokenId), true, "a revoked token id (logout, refresh, admin revoke)");

      await store.registerUser({ userId: crypto.randomUUID(), email: "rw@example.com", now: T0 });
      const registered = (await store.findUserByEmail("rw@example.com"))!;
      assert.equal((await store.findUserById(registered.userId))?.verified, false);
      await store.createOtpChallenge(challenge("rw@example.com"));
      const verified = await store.attemptOtp({
        email: "rw@example.com",
        codeHash: HASH_A,
        now: T0,
        maxAttempts: 5,
        failureBudget: GENEROUS,
      });
      assert.ok(verified.ok);
      assert.equal((await store.findUserById(registered.userId))?.verified, true, "verification");

      const sessionId = crypto.randomUUID();
      assert.equal(await store.findSession(sessionId), null);
      await store.createSession({ sessionId, userId: registered.userId, now: T0, absoluteExpiresAt: T0 + 86_400_000 });
      assert.equal((await store.findSession(sessionId))?.revokedAt, null, "a new session");
      await store.revokeSession(sessionId, T0 + 1);
      assert.equal((await store.findSession(sessionId))?.revokedAt, T0 + 1, "logout ends the session");

      const accountId = crypto.randomUUID();
      assert.equal(await store.findUserByAccountId(accountId), null);
      await store.approveUser({ email: "rw@example.com", accountId, now: T0 + 2 });
      assert.equal((await store.findUserByAccountId(accountId))?.status, "approved", "approval");
      assert.equal((await store.findUserById(registered.userId))?.status, "approved");
      await store.setScopePolicy({ accountId, scopes: ["llm:proxy"], now: T0 + 3 });
      assert.deepEqual((await store.findUserByAccountId(accountId))?.scopePolicy, ["llm:proxy"], "a narrowed policy");
      await store.rejectUser({ email: "rw@example.com", reason: null, now: T0 + 4 });
      const rejected = await store.findUserByAccountId(accountId);
      assert.deepEqual([rejected?.status, rejected?.tokensNotBefore], ["rejected", T0 + 4], "reject and its instant");
      assert.equal((await store.findUserById(registered.userId))?.status, "rejected");
      await store.approveUser({ email: "rw@example.com", accountId: crypto.randomUUID(), now: T0 + 5 });
      const again = await store.findUserByAccountId(accountId);
      assert.deepEqual([again?.status, again?.tokensNotBefore], ["approved", T0 + 4], "re-approval keeps the instant");

      const clientId = crypto.randomUUID();
      const key = (n: number) => ({ keyId: crypto.randomUUID(), prefix: `bsk_rw${n}`, hash: String(n).repeat(64) });
      assert.equal(await store.findClientById(clientId), null);
      await store.createClient({
        clientId,
        name: "rw-worker",
        audience: "ai.hg.fi/api",
        scopes: [],
        maxTtlSeconds: 600,
        key: key(1),
        now: T0,
      });
      assert.equal((await store.findClientById(clientId))?.keys.length, 1, "a new client");
      await store.rotateClientKey({ clientId, key: key(2), retireOthersAt: T0 + 10, now: T0 + 6 });
      const rotated = await store.findClientById(clientId);
      assert.deepEqual(rotated?.keys.map((k) => k.retiresAt), [T0 + 10, null], "rotation");
      await store.touchClient({ clientId, now: T0 + 7 });
      assert.equal((await store.findClientById(clientId))?.lastUsedAt, T0 + 7, "use");
      await store.revokeClient({ clientId, now: T0 + 8 });
      assert.equal((await store.findClientById(clientId))?.revokedAt, T0 + 8, "a revoked client");

      // A purge deletes what expired (a store that keeps what checks read may go on answering it: every token it
      // concerns has expired) and keeps what is live, as it was.
      const liveId = crypto.randomUUID();
      await store.revokeToken({ tokenId: liveId, expiresAt: T0 + 86_400_000 * 3, now: T0 });
      assert.equal(await store.isTokenRevoked(liveId), true);
      await store.purgeExpired(T0 + 86_400_000 * 2);
      assert.deepEqual(await store.listRevokedTokenIds(10), [liveId], "the expired revocation is deleted");
      assert.equal(await store.isTokenRevoked(liveId), true, "a live revocation stays");
      assert.equal((await store.findClientById(clientId))?.revokedAt, T0 + 8, "a revoked client stays");
      assert.equal((await store.findUserByAccountId(accountId))?.status, "approved");
    },
  ],
]; /**
 * Registers the conformance suite as one `Deno.test` with a step per case.
 *
 * @param backend name shown in the test output, such as `sqlite`
 * @param factory makes a fresh, empty store for every case
 * @param options `ignore` skips the suite, with the reason printed by the caller
 */

export function storeConformance(backend: string, factory: StoreFactory, options: { ignore?: boolean } = {}): void {
  Deno.test({
    name: `Store conformance: ${backend}`,
    ignore: options.ignore,
    // Database drivers keep sockets and timers between steps.
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      for (const [name, body] of CASES) {
        await t.step(name, async () => {
          const { store, dispose } = await factory();
          try {
            await body(store);
          } finally {
            await dispose();
          }
        });
      }
    },
  });
}
