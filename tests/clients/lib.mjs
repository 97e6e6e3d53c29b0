// What the client suites share: signing a fresh user up, and running named scenarios.
import assert from "node:assert/strict";

export const PASSWORD = "violet kettle drifting over marble";

/** Registers a new user at `url` (`tessera dev` needs no verified email) and returns it with
 * its access token. */
export async function signUp(url, prefix = "u") {
  const name = `${prefix}${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
      variables: { i: { email: `${name}@example.com`, username: name, password: PASSWORD } },
    }),
  });
  const body = await res.json();
  const token = body.data?.register?.accessToken;
  assert.ok(token, `signed up: ${JSON.stringify(body)}`);
  return { name, email: `${name}@example.com`, token };
}

/** Runs each scenario in turn, prints `ok`/`not ok` lines, and exits non-zero on any failure. */
export async function runScenarios(scenarios) {
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
}
