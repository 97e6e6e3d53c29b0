// Apollo Client 4 against a running router, as a front end uses it (issue 18's client suite,
// the parts that need no signed-in user): errors before execution read as
// `CombinedGraphQLErrors` with their codes, `BatchHttpLink`, `PersistedQueryLink` (also over
// GET), and `clientAwareness` headers counted in the router's metrics.
//
//   node apollo.mjs http://127.0.0.1:4000/graphql
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

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

let failures = 0;
for (const [name, run] of Object.entries(scenarios)) {
  try {
    await run();
    console.log(`ok - ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`not ok - ${name}\n  ${error.stack ?? error}`);
  }
}
process.exit(failures ? 1 : 0);
