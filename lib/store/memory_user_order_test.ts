import assert from "node:assert/strict";
import { Random } from "../../tests/helpers/fuzz_random.ts";
import type { UserCursor, UserRecord, UserStatus } from "./store.ts";
import { UserOrder } from "./memory_user_order.ts";

function user(userId: string, createdAt: number, status: UserStatus = "waitlisted"): UserRecord {
  return {
    userId,
    email: `${userId}@example.com`,
    verified: true,
    status,
    accountId: null,
    rejectionReason: null,
    tokensNotBefore: null,
    scopePolicy: null,
    createdAt,
    updatedAt: createdAt,
  };
}

/** What a page must be: every user filtered, sorted and cut, as the memory store made it before the index. */
function naivePage(
  users: readonly UserRecord[],
  input: { status: UserStatus | null; limit: number; after: UserCursor | null },
): string[] {
  const { after } = input;
  return users
    .filter((u) => input.status === null || u.status === input.status)
    .filter((u) =>
      after === null || u.createdAt > after.createdAt || (u.createdAt === after.createdAt && u.userId > after.userId)
    )
    .sort((a, b) => a.createdAt - b.createdAt || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
    .slice(0, input.limit)
    .map((u) => u.userId);
}

Deno.test("UserOrder pages by creation time, then id, from users inserted in any order", () => {
  const order = new UserOrder();
  for (const u of [user("c", 20), user("a", 10), user("b", 20), user("d", 5), user("e", 30)]) order.insert(u);
  const ids = (rows: UserRecord[]) => rows.map((u) => u.userId);
  assert.deepEqual(ids(order.page({ status: null, limit: 10, after: null })), ["d", "a", "b", "c", "e"]);
  assert.deepEqual(ids(order.page({ status: null, limit: 2, after: { createdAt: 10, userId: "a" } })), ["b", "c"]);
  // A cursor that is no user's: the users after its place.
  assert.deepEqual(ids(order.page({ status: null, limit: 10, after: { createdAt: 20, userId: "bb" } })), ["c", "e"]);
  assert.deepEqual(ids(order.page({ status: null, limit: 10, after: { createdAt: 99, userId: "" } })), []);
  assert.deepEqual(ids(order.page({ status: null, limit: 0, after: null })), []);
});

Deno.test("UserOrder reads each user's status when the page is made", () => {
  const order = new UserOrder();
  const users = [user("a", 1), user("b", 2), user("c", 3)];
  for (const u of users) order.insert(u);
  users[1].status = "approved";
  assert.deepEqual(order.page({ status: "waitlisted", limit: 10, after: null }).map((u) => u.userId), ["a", "c"]);
  assert.deepEqual(order.page({ status: "approved", limit: 10, after: null }).map((u) => u.userId), ["b"]);
  users[1].status = "rejected";
  assert.deepEqual(order.page({ status: "approved", limit: 10, after: null }), []);
});

Deno.test("UserOrder agrees with filtering and sorting every user, over random inserts, ties and status changes", () => {
  const random = new Random(12345);
  const statuses: UserStatus[] = ["waitlisted", "approved", "rejected"];
  const order = new UserOrder();
  const users: UserRecord[] = [];
  for (let step = 0; step < 3000; step++) {
    const action = random.below(10);
    if (action < 6 || users.length === 0) {
      // Mostly forward in time, sometimes back (a stepped clock), often on a tie.
      const createdAt = random.below(4) === 0 ? random.below(200) : 200 + step - random.below(3);
      const u = user(
        `u${random.below(1_000_000).toString().padStart(6, "0")}-${step}`,
        createdAt,
        statuses[random.below(3)],
      );
      users.push(u);
      order.insert(u);
    } else if (action < 8) {
      users[random.below(users.length)].status = statuses[random.below(3)];
    } else {
      const pick = users[random.below(users.length)];
      const after = random.below(3) === 0
        ? null
        : random.below(2) === 0
        ? { createdAt: pick.createdAt, userId: pick.userId }
        : { createdAt: pick.createdAt, userId: `${pick.userId}~` };
      const input = {
        status: random.below(4) === 0 ? null : statuses[random.below(3)],
        limit: 1 + random.below(40),
        after,
      };
      assert.deepEqual(order.page(input).map((u) => u.userId), naivePage(users, input), JSON.stringify(input));
    }
  }
  const all = { status: null, limit: users.length, after: null };
  assert.deepEqual(order.page(all).map((u) => u.userId), naivePage(users, all));
});
