// GraphiQL in a real browser (Debian's Chromium, driven by playwright-core): it loads from the
// router, runs a query, takes a Bearer header for a signed-in query, and shows a
// `notificationAdded` subscription's event when one is caused. Screenshots go to the directory
// given as the second argument.
//
//   node graphiql.mjs http://127.0.0.1:4000/ /tmp/shots
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.argv[2] ?? "http://127.0.0.1:4000/";
const shots = process.argv[3] ?? "/tmp/graphiql-shots";
mkdirSync(shots, { recursive: true });
const graphql = new URL("/graphql", base).toString();
const PASSWORD = "violet kettle drifting over marble";

async function post(query, variables) {
  const res = await fetch(graphql, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  return res.json();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
let failures = 0;
let websockets = 0;
page.on("websocket", () => (websockets += 1));
const step = async (name, run) => {
  try {
    await run();
    console.log(`ok - ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`not ok - ${name}\n  ${error.stack ?? error}`);
    await page.screenshot({ path: join(shots, `failed-${failures}.png`) }).catch(() => {});
  }
};

const editor = (n) => page.locator(".monaco-editor").nth(n);

/** Replaces the text of the `n`th Monaco editor by typing, as a person would. */
async function typeInto(locator, text) {
  await locator.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press("Escape");
}

const response = () => page.locator(".graphiql-response").innerText();
/** Runs the operation as a person at the keyboard does: close the suggestions, Ctrl-Enter. */
const run = async () => {
  // GraphiQL takes the operation name from the document a moment after each edit.
  await page.waitForTimeout(600);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
};

await step("GraphiQL loads from the router's URL and runs a query", async () => {
  await page.goto(base);
  await page.locator(".graphiql-execute-button").waitFor({ timeout: 30_000 });
  // The editors come up with the schema; typing before then is lost.
  await page.waitForFunction(() => document.querySelector(".graphiql-editor")?.textContent.includes("Hello"), null, { timeout: 30_000 });
  await typeInto(editor(0), "{ signedIn ");
  await run();
  await page.waitForFunction(() => document.querySelector(".graphiql-response")?.innerText.includes("signedIn"), null, { timeout: 15_000 });
  assert.match(await response(), /"signedIn":\s+false/);
  await page.screenshot({ path: join(shots, "1-query.png") });
});

const name = `gq${Date.now()}`;
const signedUp = await post("mutation($i: RegisterInput!) { register(input: $i) { accessToken } }", {
  i: { email: `${name}@example.com`, username: name, password: PASSWORD },
});
const token = signedUp.data?.register?.accessToken;

await step("a Bearer token in the Headers tab signs the query in", async () => {
  assert.ok(token, JSON.stringify(signedUp));
  await page.getByText("Headers", { exact: true }).click();
  const headers = page.locator(".graphiql-editor-tool .monaco-editor").last();
  await typeInto(headers, `{"Authorization": "Bearer ${token}"`);
  await typeInto(editor(0), "{ me { username ");
  await run();
  await page.waitForFunction((n) => document.querySelector(".graphiql-response")?.innerText.includes(n), name, { timeout: 15_000 });
  await page.screenshot({ path: join(shots, "2-signed-in.png") });
});

await step("a notificationAdded subscription shows the notification a password reset causes", async () => {
  await typeInto(editor(0), "subscription { notificationAdded { kind title ");
  await run();
  const seen = async () => (await response()).includes("PASSWORD_RESET");
  for (let i = 0; i < 20 && !(await seen()); i++) {
    await post("mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }", { i: { email: `${name}@example.com` } });
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path: join(shots, "3-subscription.png") });
  assert.ok(await seen(), await response());
  assert.ok(websockets > 0, "the subscription went over the websocket");
});

await browser.close();
process.exit(failures ? 1 : 0);
