// `@defer` through the router with Apollo Client 4, in both of its incremental handlers:
// `Defer20220824Handler` (Apollo Router's format) and `GraphQL17Alpha9Handler` (the newer one).
// The router serves the `shop` fixture supergraph, whose `critiques` subgraph answers after
// 1.5 s: the initial part must arrive before that, and the final result must equal the
// undeferred answer.
//
//   node defer.mjs http://127.0.0.1:4101/graphql
import assert from "node:assert/strict";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Defer20220824Handler, GraphQL17Alpha9Handler } from "@apollo/client/incremental";

const url = process.argv[2] ?? "http://127.0.0.1:4101/graphql";
const SLOW_MS = 1500;

const DEFERRED = gql`
  query Deferred {
    topProduct {
      id
      name
      ... @defer(label: "critiques") {
        reviews {
          body
          stars
          author {
            id
            ... @defer(label: "people") {
              name
            }
          }
        }
      }
    }
  }
`;

const WHOLE = `{ topProduct { id name reviews { body stars author { id name } } } }`;

async function undeferred() {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: WHOLE }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/** Watches the deferred query; resolves with each emitted result and when it came. */
function watch(handler) {
  const client = new ApolloClient({
    link: new HttpLink({ uri: url }),
    cache: new InMemoryCache(),
    incrementalHandler: handler,
  });
  const started = performance.now();
  const seen = [];
  return new Promise((resolve, reject) => {
    const subscription = client.watchQuery({ query: DEFERRED, fetchPolicy: "network-only" }).subscribe({
      next(result) {
        if (result.error) {
          subscription.unsubscribe();
          reject(result.error);
          return;
        }
        if (!result.data) return;
        seen.push({ at: performance.now() - started, data: result.data, state: result.dataState });
        if (result.dataState === "complete") {
          subscription.unsubscribe();
          client.stop();
          resolve(seen);
        }
      },
      error: reject,
    });
  });
}

/** The result without Apollo's `__typename`s, to compare with the plain answer. */
function plain(value) {
  return JSON.parse(JSON.stringify(value, (key, v) => (key === "__typename" ? undefined : v)));
}

const expected = await undeferred();
let failures = 0;
for (const [name, handler] of [
  ["Defer20220824Handler", new Defer20220824Handler()],
  ["GraphQL17Alpha9Handler", new GraphQL17Alpha9Handler()],
]) {
  try {
    const seen = await watch(handler);
    const first = seen[0];
    assert.equal(first.data.topProduct.name, expected.topProduct.name, "the initial part has the eager fields");
    assert.equal(first.data.topProduct.reviews, undefined, "the initial part leaves the deferred fields out");
    assert.ok(first.at < SLOW_MS, `the initial part came after ${first.at.toFixed(0)} ms, before the slow subgraph`);
    const last = seen[seen.length - 1];
    assert.ok(last.at >= SLOW_MS, "the deferred part waited for the slow subgraph");
    assert.deepEqual(plain(last.data), expected, "the final result equals the undeferred answer");
    console.log(`ok - ${name}: initial part after ${first.at.toFixed(0)} ms, final after ${last.at.toFixed(0)} ms, ${seen.length} results`);
  } catch (error) {
    failures += 1;
    console.log(`not ok - ${name}: ${error.stack ?? error}`);
  }
}
process.exit(failures ? 1 : 0);
