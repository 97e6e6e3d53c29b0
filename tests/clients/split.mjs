// The journey through a split deployment (started by tests/split/split.py): two routers, two
// notifications replicas, every component its own process, PostgreSQL and Redis.
//
//   node split.mjs <router A /graphql> <router B /graphql> <mail dir> <pid of notifications replica A>
//
// Sign-up, verification and sign-in through router A; a subscription through router B that
// receives what router A caused; revocations and rate limits that hold across both routers; and
// notifications replica A killed with SIGKILL while events flow, after which every event is
// applied exactly once.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { PASSWORD, runScenarios } from "./lib.mjs";

const [routerA, routerB, mailDir, notificationsA] = process.argv.slice(2);
assert.ok(routerA && routerB && mailDir && notificationsA, "usage: split.mjs <router A> <router B> <mail dir> <pid>");

async function gql(url, query, variables = {}, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

const code = (r) => r.body.errors?.[0]?.extensions?.code;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The verification code mailed to `email` (the .eml sink both notifications replicas share). */
function mailedCode(email) {
  let files = [];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith(".eml"));
  } catch {
    return null;
  }
  for (const f of files.sort().reverse()) {
    const text = readFileSync(join(mailDir, f), "utf8");
    if (text.includes(`To: ${email}`)) {
      const found = text.match(/verification code is (\d{6})/)?.[1];
      if (found) return found;
    }
  }
  return null;
}

/** Signs a new user up through router A and verifies them with the mailed code: the production
 * profile gives no tokens before the email is verified. */
async function verifiedUser(prefix) {
  const name = `${prefix}${Date.now()}`;
  const email = `${name}@example.com`;
  const registered = await gql(routerA, "mutation($i: RegisterInput!) { register(input: $i) { verificationRequired accessToken } }", {
    i: { email, username: name, password: PASSWORD },
  });
  assert.equal(registered.body.data?.register?.verificationRequired, true, JSON.stringify(registered.body));
  assert.equal(registered.body.data.register.accessToken, null, "no tokens before verification (production)");
  const mailed = await until(`a verification mail to ${email}`, () => mailedCode(email));
  const verified = await gql(routerA, "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { accessToken } }", {
    i: { email, code: mailed },
  });
  assert.ok(verified.body.data?.verifyEmail?.accessToken, JSON.stringify(verified.body));
  const login = await gql(routerA, "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }", {
    i: { identifier: email, password: PASSWORD },
  });
  const token = login.body.data?.login?.accessToken;
  assert.ok(token, JSON.stringify(login.body));
  return { name, email, token };
}

/** One profile change through router A: a ProfileUpdated event, a PROFILE_UPDATED notification. */
async function changeProfile(token, n) {
  const me = await gql(routerA, "{ me { profile { version } } }", {}, token);
  const version = me.body.data?.me?.profile?.version;
  assert.ok(version !== undefined, JSON.stringify(me.body));
  const changed = await gql(
    routerA,
    "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { version } } }",
    { i: { expectedVersion: version, displayName: `Split ${n}` } },
    token,
  );
  assert.ok(changed.body.data?.updateProfile, JSON.stringify(changed.body));
}

/** The user's PROFILE_UPDATED notifications, read through router B. */
async function profileNotifications(token) {
  const r = await gql(routerB, "{ myNotifications(first: 100) { nodes { id kind } } }", {}, token);
  if (!r.body.data) return null;
  return r.body.data.myNotifications.nodes.filter((n) => n.kind === "PROFILE_UPDATED");
}

let first;

await runScenarios({
  async "a visitor signs up, verifies the mailed code and signs in through router A"() {
    first = await verifiedUser("split");
    const me = await gql(routerA, "{ me { username emailVerified } }", {}, first.token);
    assert.deepEqual(me.body.data?.me, { username: first.name, emailVerified: true });
  },

  async "a subscription through router B receives the notification a change through router A causes"() {
    const ws = createClient({
      url: routerB.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${first.token}` },
      retryAttempts: 0,
    });
    const seen = [];
    const stop = ws.subscribe({ query: "subscription { notificationAdded { kind title } }" }, {
      next: (v) => v.data?.notificationAdded?.kind === "PROFILE_UPDATED" && seen.push(v.data.notificationAdded),
      error: (e) => seen.push({ error: e }),
      complete: () => {},
    });
    try {
      // The first change may come before router B's upstream subscription listens: change again.
      for (let i = 0; i < 10 && seen.length === 0; i++) {
        await changeProfile(first.token, `live ${i}`);
        await until("", () => seen.length > 0, 1500).catch(() => {});
      }
      assert.ok(seen.length > 0 && !seen[0].error, JSON.stringify(seen));
    } finally {
      stop();
      await ws.dispose();
    }
  },

  async "a session signed out through router A is refused by router B"() {
    const second = await gql(routerA, "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", {
      i: { identifier: first.email, password: PASSWORD },
    });
    const doomed = second.body.data.login.accessToken;
    assert.equal((await gql(routerB, "{ me { username } }", {}, doomed)).body.data?.me?.username, first.name);
    const out = await gql(routerA, "mutation { logout { revoked } }", {}, doomed);
    assert.equal(out.body.data?.logout?.revoked, 1, JSON.stringify(out.body));
    await until("router B to refuse the revoked session", async () => {
      const r = await gql(routerB, "{ me { username } }", {}, doomed);
      return r.status === 401 && code(r) === "UNAUTHENTICATED";
    });
    // The other session of the same user is untouched.
    assert.equal((await gql(routerB, "{ me { username } }", {}, first.token)).body.data?.me?.username, first.name);
  },

  async "one user's request budget is shared by both routers"() {
    const user = await verifiedUser("budget");
    const spend = async (router, n) => {
      let ok = 0;
      let limited = 0;
      for (let i = 0; i < n; i++) {
        const r = await gql(router, "{ signedIn }", {}, user.token);
        if (r.body.data?.signedIn === true) ok += 1;
        else if (code(r) === "RATE_LIMITED") limited += 1;
      }
      return { ok, limited };
    };
    // The budget is 60 with a slow refill: A spends most of it, so B has little left.
    const a = await spend(routerA, 50);
    const b = await spend(routerB, 30);
    console.log(`  # router A: ${a.ok} answered, ${a.limited} limited; router B: ${b.ok} answered, ${b.limited} limited`);
    assert.equal(a.limited, 0, "within the budget on A");
    assert.ok(b.limited >= 10, "B refuses what A already spent: one budget, not one per router");
  },

  async "an order placed through router B reserves stock in products and is confirmed"() {
    // Orders calls products directly with a service token from auth's client-credentials grant:
    // the secret orders holds and the digest auth holds come from compose's environment.
    const [identifier, password] = (process.env.SPLIT_ADMIN ?? "").split(/:(.*)/s);
    const admin = await gql(routerA, "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", { i: { identifier, password } });
    const adminToken = admin.body.data?.login?.accessToken;
    assert.ok(adminToken, JSON.stringify(admin.body));
    const created = await gql(
      routerA,
      "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id stock } } }",
      { i: { name: "Split lamp", sku: `SPLIT-${Date.now()}`, price: { amount: 2500, currency: "EUR" }, stock: 3, status: "ACTIVE" } },
      adminToken,
    );
    const product = created.body.data?.createProduct?.product;
    assert.ok(product, JSON.stringify(created.body));
    const placed = await gql(
      routerB,
      "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { status total { amount currency } items { product { stock } } } } }",
      { i: { items: [{ productId: product.id, quantity: 2 }], idempotencyKey: `split-${Date.now()}` } },
      first.token,
    );
    const order = placed.body.data?.placeOrder?.order;
    assert.equal(order?.status, "CONFIRMED", JSON.stringify(placed.body));
    assert.deepEqual(order.total, { amount: 5000, currency: "EUR" });
    const left = await gql(routerA, "query($id: ID!) { product(id: $id) { stock } }", { id: product.id });
    assert.equal(left.body.data?.product?.stock, 1, "two of three reserved and committed");
  },

  async "notifications replica A is killed under load and every event is applied exactly once"() {
    const before = (await profileNotifications(first.token)).length;
    const total = 20;
    for (let i = 0; i < total; i++) {
      if (i === 3) {
        // Frozen first, so it holds events it was handed and will never ack: a process killed
        // mid-way through a batch, every time rather than by luck of timing.
        process.kill(Number(notificationsA), "SIGSTOP");
      }
      await changeProfile(first.token, `load ${i}`);
      if (i === 8) {
        process.kill(Number(notificationsA), "SIGKILL");
        console.log(`  # notifications replica A (pid ${notificationsA}) frozen after 3 changes, killed after ${i + 1} of ${total}`);
      }
    }
    // Events A had taken but not acked are taken over by B once idle (30 s), then applied once.
    const seen = await until(
      `${total} new PROFILE_UPDATED notifications`,
      async () => {
        const list = await profileNotifications(first.token);
        return list && list.length >= before + total ? list : null;
      },
      75_000,
    );
    await sleep(3000); // a duplicate would show up in this time
    const after = await profileNotifications(first.token);
    assert.equal(after.length, before + total, `exactly ${total} new: none lost, none twice (saw ${seen.length} then ${after.length})`);
    assert.equal(new Set(after.map((n) => n.id)).size, after.length);
  },
});
