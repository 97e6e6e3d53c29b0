// graphql-ws 6 against the router's graphql-transport-ws endpoint: `connectionParams` auth
// with a real token, a refused token, and every close code a client can provoke (issue 18).
// Raw frames come from `ws`, so protocol violations can be sent on purpose.
//
//   node ws.mjs http://127.0.0.1:4000/graphql
import assert from "node:assert/strict";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { runScenarios, signUp } from "./lib.mjs";

const url = process.argv[2] ?? "http://127.0.0.1:4000/graphql";
const wsUrl = url.replace(/^http/, "ws");
const PROTOCOL = "graphql-transport-ws";

/** A raw connection: sends `frames` (after `open`), resolves with the close code and reason. */
function closeCodeAfter(frames, { waitMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, PROTOCOL);
    const timer = setTimeout(() => reject(new Error("the router never closed the socket")), 20_000);
    socket.on("open", async () => {
      for (const frame of frames) {
        socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
        await new Promise((r) => setTimeout(r, 50));
      }
      if (waitMs) await new Promise((r) => setTimeout(r, waitMs));
    });
    socket.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    socket.on("error", () => {});
  });
}


const subscribe = (client, query) =>
  new Promise((resolve) => {
    const seen = [];
    client.subscribe({ query }, {
      next: (value) => seen.push(value),
      error: (error) => resolve({ seen, error }),
      complete: () => resolve({ seen, error: null }),
    });
    setTimeout(() => resolve({ seen, error: "still running" }), 1500);
  });

const scenarios = {
  async "connectionParams with a valid token admits an authenticated subscription"() {
    const { token } = await signUp(url, "ws");
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const { seen, error } = await subscribe(client, "subscription { notificationAdded { id } }");
    await client.dispose();
    assert.equal(error, "still running", `the subscription runs, not refused: ${JSON.stringify({ seen, error })}`);
    assert.ok(seen.every((s) => !s.errors), JSON.stringify(seen));
  },

  async "without a token the same subscription gets UNAUTHENTICATED, and the socket stays usable"() {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const { error } = await subscribe(client, "subscription { notificationAdded { id } }");
    const first = Array.isArray(error) ? error[0] : error;
    assert.equal(first?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(error));
    const again = await subscribe(client, "subscription { notificationAdded { id } }");
    assert.ok(Array.isArray(again.error), "a second operation on the same socket is answered too");
    await client.dispose();
  },

  async "a token that does not verify closes the socket with 4403 and fails the subscription"() {
    let closed = null;
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: "Bearer not.a.token" },
      retryAttempts: 0,
      on: { closed: (event) => (closed = event.code) },
    });
    const { error } = await subscribe(client, "subscription { notificationAdded { id } }");
    assert.equal(closed, 4403, `closed with ${closed}`);
    assert.equal(error?.code, 4403, "the subscription's sink gets the close event");
    await client.dispose().catch(() => {});
  },

  async "a malformed message closes 4400"() {
    const { code } = await closeCodeAfter([{ type: "connection_init" }, "{not json"]);
    assert.equal(code, 4400);
  },

  async "a subscribe before connection_ack closes 4401"() {
    const { code } = await closeCodeAfter([{ id: "1", type: "subscribe", payload: { query: "{ signedIn }" } }]);
    assert.equal(code, 4401);
  },

  async "a second subscribe with the id of a running one closes 4409"() {
    const { token } = await signUp(url, "ws");
    const query = { query: "subscription { notificationAdded { id } }" };
    const { code } = await closeCodeAfter([
      { type: "connection_init", payload: { authorization: `Bearer ${token}` } },
      { id: "same", type: "subscribe", payload: query },
      { id: "same", type: "subscribe", payload: query },
    ]);
    assert.equal(code, 4409);
  },

  async "a second connection_init closes 4429"() {
    const { code } = await closeCodeAfter([{ type: "connection_init" }, { type: "connection_init" }]);
    assert.equal(code, 4429);
  },

  async "no connection_init in time closes 4408"() {
    const { code } = await closeCodeAfter([], { waitMs: 15_000 });
    assert.equal(code, 4408);
  },
};

await runScenarios(scenarios);
