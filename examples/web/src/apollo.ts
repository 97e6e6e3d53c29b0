// The Apollo Client the shop uses: queries and mutations over HTTP, subscriptions over one
// graphql-ws websocket, both carrying the current access token. An answer refused as
// UNAUTHENTICATED (the token expired under us) is retried once after a silent refresh.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { from, mergeMap } from "rxjs";
import { accessToken, hasRefreshToken, onTokenChange, refresh } from "./session";

const wsUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;

/** The socket of the moment, so a new token can restart it (see `onTokenChange` below). */
let socket: WebSocket | null = null;
/** Set while we close the socket ourselves to present a new token: reconnect at once, since a
 * notification published while no socket is subscribed is not replayed. */
let restarting = false;

const ws = createClient({
  url: wsUrl,
  lazy: true,
  // Read at every (re)connect, so a reconnect always presents the current token.
  connectionParams: () => {
    const token = accessToken();
    return token ? { Authorization: `Bearer ${token}` } : {};
  },
  retryAttempts: Infinity,
  retryWait: async (retries) => {
    if (restarting) {
      restarting = false;
      return;
    }
    // graphql-ws's own default: randomised exponential backoff, so clients a server dropped
    // together do not all come back in the same instant.
    const wait = 1000 * 2 ** Math.min(retries, 5) + 300 + Math.random() * 2700;
    await new Promise((resolve) => setTimeout(resolve, wait));
  },
  // 4403 means the token was refused (expired, revoked): refresh before trying again rather
  // than retrying a dead token with backoff, which graphql-ws would do by default.
  shouldRetry: (event) => {
    const code = (event as CloseEvent | undefined)?.code;
    if (code === 4403) {
      void refresh();
      return hasRefreshToken();
    }
    return code !== 4400 && code !== 4409;
  },
  on: {
    opened: (s) => (socket = s as WebSocket),
    closed: () => (socket = null),
  },
});

/** A new access token restarts the socket: graphql-ws reconnects with it and resubscribes
 * every live subscription. 4205 is a private code graphql-ws treats as retryable. */
onTokenChange(() => {
  if (socket && socket.readyState === WebSocket.OPEN) {
    restarting = true;
    socket.close(4205, "new token");
  }
});

const auth = new SetContextLink((prev) => {
  const token = accessToken();
  return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
});

const retryAfterRefresh = new ErrorLink(({ error, operation, forward }) => {
  const unauthenticated =
    CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!unauthenticated || operation.getContext().refreshed || !hasRefreshToken()) return;
  // Refresh tokens themselves are never retried this way.
  if (operation.operationName === "Refresh") return;
  operation.setContext({ refreshed: true });
  return from(refresh()).pipe(mergeMap(() => forward(operation)));
});

const http = ApolloLink.from([retryAfterRefresh, auth, new HttpLink({ uri: "/graphql" })]);

const isSubscription = ({ query }: ApolloLink.Operation) => {
  const definition = getMainDefinition(query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
};

export const client = new ApolloClient({
  link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), http),
  cache: new InMemoryCache(),
  clientAwareness: { name: "tessera-shop", version: "1.0.0" },
});
