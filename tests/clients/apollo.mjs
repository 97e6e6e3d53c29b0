// Apollo Client 4 against a running router, as a front end uses it (issue 18's client suite,
// the parts that need no signed-in user): errors before execution read as
// `CombinedGraphQLErrors` with their codes, `BatchHttpLink`, `PersistedQueryLink` (also over
// GET), `clientAwareness` headers counted in the router's metrics; and, for a user who signs up,
// `HttpLink` with a Bearer token, `split()` between `GraphQLWsLink` and `HttpLink`, and a
// multipart subscription over `HttpLink`, each seeing its own notification arrive.
//
//   node apollo.mjs http://127.0.0.1:4000/graphql
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { SetContextLink } from "@apollo/client/link/context";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { runScenarios, signUp } from "./lib.mjs";

const url = process.argv[2] ?? "http://127.0.0.1:4000/graphql";
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const client = (link, extra = {}) => new ApolloClient({ link, cache: new InMemoryCache(), ...extra });

const scenarios = {
  async "a validation error reaches the app as CombinedGraphQLErrors with its code"() {
    const apollo = client(new HttpLink({ uri: url }));
    const { error } = await apollo.query({ query: gql`{ noSuchField }`, errorPolicy: "all" });
    assert.ok(CombinedGraphQLErrors.is(error), `a ${error?.constructor?.name}: ${error}`);
    assert.equal(error.errors[0].extensions.code, "GRAPHQL_VALIDATION_FAILED");
  },

  async "a bad variable reaches the app with BAD_USER_INPUT naming it"() {
    const apollo = client(new HttpLink({ uri: url }));
    const query = gql`query ($id: ID!) { product(id: $id) { name } }`;
    const { error } = await apollo.query({ query, variables: { id: null }, errorPolicy: "all" });
    assert.ok(CombinedGraphQLErrors.is(error), `a ${error?.constructor?.name}: ${error}`);
    assert.equal(error.errors[0].extensions.code, "BAD_USER_INPUT");
  },

  async "BatchHttpLink sends several operations in one request and gets each answer"() {
    let requests = 0;
    const counting = (input, init) => {
      requests += 1;
      return fetch(input, init);
    };
    const apollo = client(new BatchHttpLink({ uri: url, batchMax: 5, batchInterval: 20, fetch: counting }));
    const [a, b, c] = await Promise.all([
      apollo.query({ query: gql`query A { signedIn }` }),
      apollo.query({ query: gql`query B { __typename }` }),
      apollo.query({ query: gql`query C { nope }`, errorPolicy: "all" }),
    ]);
    assert.equal(requests, 1, "one HTTP request for the three");
    assert.equal(a.data.signedIn, false);
    assert.equal(b.data.__typename, "Query");
    assert.ok(CombinedGraphQLErrors.is(c.error), `a ${c.error?.constructor?.name}`);
    assert.equal(c.error.errors[0].extensions.code, "GRAPHQL_VALIDATION_FAILED");
  },

  async "PersistedQueryLink registers a query once, then sends only its hash, also over GET"() {
    const sent = [];
    const recording = (input, init) => {
      sent.push({ method: init?.method ?? "GET", body: init?.body ?? null, url: String(input) });
      return fetch(input, init);
    };
    const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
    const query = gql`query Persisted${String(Date.now())} { signedIn }`;
    const first = client(ApolloLink.from([persisted, new HttpLink({ uri: url, fetch: recording })]));
    assert.equal((await first.query({ query })).data.signedIn, false);
    const second = client(ApolloLink.from([new PersistedQueryLink({ sha256, useGETForHashedQueries: true }), new HttpLink({ uri: url, fetch: recording })]));
    assert.equal((await second.query({ query })).data.signedIn, false);
    assert.ok(sent[0].method === "GET" && !sent[0].url.includes("query="), "the first try is the hash alone");
    assert.ok(sent.some((s) => s.body?.includes("signedIn")), "the miss is followed by the full query");
    const last = sent[sent.length - 1];
    assert.ok(last.method === "GET" && !last.url.includes("query="), "the second client sends only the hash");
  },

  async "clientAwareness headers are counted under the client's name and version"() {
    const apollo = client(new HttpLink({ uri: url }), { clientAwareness: { name: "tessera-clients", version: "1.0.0" } });
    await apollo.query({ query: gql`{ signedIn }` });
    const metrics = await (await fetch(new URL("/metrics", url))).text();
    assert.match(metrics, /client_requests_total\{client_name="tessera-clients",client_version="1\.0\.0"\} [1-9]/);
  },
};


/** An Apollo Client as a front end builds it: Bearer auth on HTTP, the token in
 * `connectionParams` on the websocket, and `split()` sending subscriptions to the websocket. */
function signedIn(token, { websocket = true } = {}) {
  const auth = new SetContextLink((prev) => ({ headers: { ...prev.headers, authorization: `Bearer ${token}` } }));
  const http = ApolloLink.from([auth, new HttpLink({ uri: url })]);
  if (!websocket) return { apollo: client(http), dispose: async () => {} };
  const ws = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const isSubscription = ({ query }) => {
    const definition = getMainDefinition(query);
    return definition.kind === "OperationDefinition" && definition.operation === "subscription";
  };
  const link = ApolloLink.split(isSubscription, new GraphQLWsLink(ws), http);
  return { apollo: client(link), dispose: () => ws.dispose() };
}

const ADDED = gql`subscription { notificationAdded { kind title } }`;

/** Subscribes, then asks for a password reset (an in-app notification to this user) until its
 * notification arrives; resolves with it and how long it took after the last request. The
 * sign-up's WELCOME notification is made asynchronously and may reach a subscription opened
 * just after it, so any other kind is passed over rather than taken for the answer. */
function resetNotification(apollo, email) {
  return new Promise((resolve, reject) => {
    let asked = 0;
    let last = 0;
    const subscription = apollo.subscribe({ query: ADDED }).subscribe({
      next: (result) => {
        if (result.error) return reject(result.error);
        if (!result.data) return;
        if (result.data.notificationAdded.kind !== "PASSWORD_RESET") return;
        subscription.unsubscribe();
        clearInterval(timer);
        resolve({ notification: result.data.notificationAdded, ms: performance.now() - last });
      },
      error: reject,
    });
    // The first request may come before the notifications subgraph has heard of the sign-up.
    const timer = setInterval(async () => {
      if (++asked > 10) {
        clearInterval(timer);
        subscription.unsubscribe();
        return reject(new Error("no notification arrived"));
      }
      last = performance.now();
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }", variables: { i: { email } } }),
      });
    }, 500);
  });
}

Object.assign(scenarios, {
  async "HttpLink with a Bearer token reads the signed-in user"() {
    const user = await signUp(url, "ac");
    const { apollo } = signedIn(user.token, { websocket: false });
    const { data } = await apollo.query({ query: gql`{ me { username } signedIn }` });
    assert.equal(data.me.username, user.name);
    assert.equal(data.signedIn, true);
  },

  async "split() sends the subscription over GraphQLWsLink and a notification arrives within a bound"() {
    const user = await signUp(url, "ac");
    const { apollo, dispose } = signedIn(user.token);
    const { notification, ms } = await resetNotification(apollo, user.email);
    await dispose();
    assert.equal(notification.kind, "PASSWORD_RESET");
    assert.ok(ms < 2000, `arrived ${ms.toFixed(0)} ms after its cause`);
  },

  async "a subscription over HttpLink (multipart) delivers the notification too"() {
    const user = await signUp(url, "ac");
    const { apollo } = signedIn(user.token, { websocket: false });
    const { notification, ms } = await resetNotification(apollo, user.email);
    assert.equal(notification.kind, "PASSWORD_RESET");
    assert.ok(ms < 2000, `arrived ${ms.toFixed(0)} ms after its cause`);
  },
});

await runScenarios(scenarios);
