// Checks a running router's introspection with graphql-js, as GraphiQL and codegen use it:
// the answer to getIntrospectionQuery() must build a client schema that graphql-js validates,
// and that schema must introspect back to the same answer (for every type and directive of the
// API: the meta types are graphql-js's own on the way back).
// Usage: node introspection.mjs [url]. Exits 1 on any difference.
import {
  buildClientSchema,
  getIntrospectionQuery,
  introspectionFromSchema,
  validateSchema,
} from 'graphql';

const url = process.argv[2] ?? 'http://127.0.0.1:4000/graphql';
const options = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  inputValueDeprecation: true,
  oneOf: true,
};
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query: getIntrospectionQuery(options) }),
});
const body = await res.json();
if (body.errors || !body.data) {
  console.log(`ERROR the introspection query failed: ${JSON.stringify(body.errors ?? body)}`);
  process.exit(1);
}
const schema = buildClientSchema(body.data);
const invalid = validateSchema(schema);
if (invalid.length > 0) {
  console.log(`ERROR graphql-js finds the schema invalid: ${invalid.map((e) => e.message).join('; ')}`);
  process.exit(1);
}
const builtIn = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
const ours = (data) => ({
  queryType: data.__schema.queryType,
  mutationType: data.__schema.mutationType,
  subscriptionType: data.__schema.subscriptionType,
  types: data.__schema.types
    .filter((t) => !t.name.startsWith('__') && !builtIn.has(t.name))
    .sort((a, b) => a.name.localeCompare(b.name)),
  directives: data.__schema.directives
    .filter((d) => !['include', 'skip', 'deprecated', 'specifiedBy', 'oneOf'].includes(d.name))
    .sort((a, b) => a.name.localeCompare(b.name)),
});
const served = ours(body.data);
const again = ours(introspectionFromSchema(schema, options));
const a = JSON.stringify(served, null, 1);
const b = JSON.stringify(again, null, 1);
if (a !== b) {
  const left = a.split('\n');
  const right = b.split('\n');
  const at = left.findIndex((line, i) => line !== right[i]);
  console.log(`ERROR the round trip differs at line ${at}:\n  served: ${left.slice(at - 3, at + 3).join('\n          ')}\n  again:  ${right.slice(at - 3, at + 3).join('\n          ')}`);
  process.exit(1);
}
console.log(`introspection round trip: ${served.types.length} types and ${served.directives.length} directives identical (${url})`);
