// Runs graphql-http's server audits (the GraphQL-over-HTTP spec) against a running router.
// Usage: node audit.mjs [url]. Exits 1 on any error-level finding; prints warnings.
import { serverAudits } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:4000/graphql';
let errors = 0;
let warnings = 0;
let ok = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    ok += 1;
  } else if (result.status === 'warn') {
    warnings += 1;
    console.log(`warn  ${audit.name}: ${result.reason}`);
  } else {
    errors += 1;
    console.log(`ERROR ${audit.name}: ${result.reason}`);
  }
}
console.log(`graphql-http audit: ${ok} ok, ${warnings} warnings, ${errors} errors`);
process.exit(errors > 0 ? 1 : 0);
