// GraphiQL for the Tessera router. Built by `npm run build` into router/assets/graphiql and
// embedded in the router binary: no CDN, so it works offline.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

// Monaco's editors run in web workers, served by the router next to this bundle.
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    if (label === 'json') return new Worker('/graphiql/json.worker.js');
    if (label === 'graphql') return new Worker('/graphiql/graphql.worker.js');
    return new Worker('/graphiql/editor.worker.js');
  },
};

const url = new URL('/graphql', window.location.href).toString();
const fetcher = createGraphiQLFetcher({
  url,
  // Subscriptions go over the same URL with graphql-transport-ws; the headers below travel in
  // `connection_init`, where the router reads `Authorization`.
  subscriptionUrl: url.replace(/^http/, 'ws'),
});

// Paste an access token after "Bearer " to call @authenticated fields; left as is, requests
// are anonymous.
const defaultHeaders = JSON.stringify({ Authorization: 'Bearer ' }, null, 2);

const defaultQuery = `# Welcome to Tessera: one graph composed from
# five subgraphs (auth, users, products, orders,
# notifications).
#
# Press the play button to run a query.
# @authenticated fields need an access token:
# paste it after "Bearer " in the Headers tab.

query Hello {
  signedIn
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL fetcher={fetcher} defaultHeaders={defaultHeaders} defaultQuery={defaultQuery} shouldPersistHeaders />,
);
