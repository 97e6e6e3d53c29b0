// The example shop (examples/web) driven in a real browser (Debian's Chromium, playwright-core)
// through `tessera dev`, which serves it at /app: sign up, verify with the code from the dev
// mail sink, search, order, a live notification, the order's status moved by an admin, a stale
// profile save, an order beyond the stock, MFA enrolment with its QR code, a reload that keeps
// the session, and "sign out everywhere". A screenshot of each step goes to the shots directory.
//
//   node shop.mjs http://127.0.0.1:4000/app/ <data dir of tessera dev> <shots dir> <tessera binary>
//
// The data dir holds the dev mail sink (`mail/*.eml`); the tessera binary makes an admin in it,
// as an operator would (`tessera admin create`), to ship the order.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { PASSWORD } from "./lib.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:4000/app/";
const dataDir = process.argv[3] ?? "./data";
const shots = process.argv[4] ?? "/tmp/shop-shots";
const tessera = process.argv[5] ?? "tessera";
mkdirSync(shots, { recursive: true });
const graphql = new URL("/graphql", base).toString();

async function post(query, variables, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(graphql, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

/** The newest verification code mailed to `email`, from the dev mail sink. */
function mailedCode(email) {
  const dir = join(dataDir, "mail");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (!text.includes(`To: ${email}`)) continue;
    const code = text.match(/verification code is (\d{6})/)?.[1];
    if (code) return code;
  }
  return null;
}

/** RFC 6238: the current six-digit code for a base32 secret, as an authenticator app shows it. */
function totp(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));
if (process.env.DEBUG_WS) page.on("websocket", (ws) => { console.log("ws open", ws.url()); ws.on("framesent", (f) => console.log(">", String(f.payload).slice(0, 300))); ws.on("framereceived", (f) => console.log("<", String(f.payload).slice(0, 300))); ws.on("close", () => console.log("ws closed")); });
let shot = 0;
const snap = (name) => page.screenshot({ path: join(shots, `${String(++shot).padStart(2, "0")}-${name}.png`) });

/** Each step builds on the one before, so the first failure ends the journey. */
async function step(name, run) {
  try {
    await run();
    console.log(`ok - ${name}`);
  } catch (error) {
    console.log(`not ok - ${name}\n  ${error.stack ?? error}`);
    await page.screenshot({ path: join(shots, "failed.png") }).catch(() => {});
    if (consoleErrors.length) console.log(`  browser console:\n    ${consoleErrors.join("\n    ")}`);
    await browser.close();
    process.exit(1);
  }
}

const name = `shop${Date.now()}`;
const email = `${name}@example.com`;
const alert = () => page.getByRole("alert");

await step("the shop loads from the router at /app and lists the catalogue", async () => {
  await page.goto(base);
  await page.locator(".product").first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator("p.muted").first().innerText(), /\d+ products?/);
  await snap("catalogue");
});

await step("a visitor signs up and verifies their email with the code from the dev mail sink", async () => {
  await page.getByRole("link", { name: "Create account" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await snap("sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  let code = null;
  for (let i = 0; i < 50 && !code; i++) {
    code = mailedCode(email);
    if (!code) await page.waitForTimeout(100);
  }
  assert.ok(code, `a verification mail reached ${email} in ${dataDir}/mail`);
  await page.getByLabel("Verification code").fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await alert().waitFor();
  assert.equal(await alert().getAttribute("data-code"), "BAD_USER_INPUT", "a wrong code is refused in words");
  await page.getByLabel("Verification code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("link", { name: "Orders" }).waitFor();
  await snap("verified");
});

await step("the account page shows the verified email", async () => {
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByText(`${email} · verified`).waitFor();
});

let product;
await step("search and filters narrow the catalogue", async () => {
  await page.getByRole("link", { name: "Catalogue" }).click();
  const listing = await post("{ products(first: 50, filter: { inStock: true }) { nodes { id name stock price { amount currency } } } }");
  // A word of a stocked product's name, searched as a person would type it.
  product = listing.data.products.nodes.find((p) => p.stock >= 3 && /^[A-Za-z]{4,}/.test(p.name));
  assert.ok(product, JSON.stringify(listing));
  const word = product.name.split(/\s+/)[0];
  await page.getByRole("searchbox", { name: "Search" }).fill(word);
  await page.getByRole("checkbox", { name: "In stock" }).check();
  await page.waitForFunction(
    (n) => [...document.querySelectorAll(".product h3")].some((h) => h.textContent === n) && document.querySelectorAll(".product").length < 50,
    product.name,
    { timeout: 15_000 },
  );
  const names = await page.locator(".product h3").allInnerTexts();
  assert.ok(names.every((n) => n.length > 0));
  await page.getByRole("combobox", { name: "Sort" }).selectOption("PRICE_ASC");
  await page.locator(".product h3", { hasText: product.name }).waitFor();
  await snap("search");
});

let orderNumber;
await step("a signed-in customer orders, and the order's notification arrives live as a toast", async () => {
  await page.getByRole("button", { name: `Add ${product.name} to cart` }).click();
  await page.getByRole("link", { name: "Cart (1)" }).click();
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByTestId("order-status").waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId("order-status").innerText(), "CONFIRMED");
  orderNumber = (await page.getByRole("heading", { level: 1 }).innerText()).match(/ORD-[0-9A-Z-]+/)?.[0];
  assert.ok(orderNumber, "the order page names the order");
  // OrderPlaced → notifications → notificationAdded over the router's websocket.
  const toast = page.locator(".toast", { hasText: orderNumber });
  await toast.waitFor({ timeout: 10_000 });
  await snap("order-placed");
});

await step("the order's status follows an admin's change without a reload", async () => {
  const admin = `admin${Date.now()}@example.com`;
  const out = execFileSync(tessera, ["admin", "create", "--email", admin], { env: { ...process.env, TESSERA_DATA_DIR: dataDir }, encoding: "utf8" });
  const password = out.match(/One-time password[^:]*: (\S+)/)?.[1];
  assert.ok(password, out);
  const login = await post("mutation($i: LoginInput!) { login(input: $i) { accessToken } }", { i: { identifier: admin, password } });
  const token = login.data?.login?.accessToken;
  assert.ok(token, JSON.stringify(login));
  const orders = await post("{ orders(first: 50, status: CONFIRMED) { nodes { id number version } } }", {}, token);
  const order = orders.data?.orders?.nodes?.find((o) => o.number === orderNumber);
  assert.ok(order, JSON.stringify(orders));
  const shipped = await post(
    "mutation($i: UpdateOrderStatusInput!) { updateOrderStatus(input: $i) { order { status } } }",
    { i: { id: order.id, status: "SHIPPED", expectedVersion: order.version } },
    token,
  );
  assert.equal(shipped.data?.updateOrderStatus?.order?.status, "SHIPPED", JSON.stringify(shipped));
  await page.waitForFunction(() => document.querySelector("[data-testid=order-status]")?.textContent === "SHIPPED", null, { timeout: 10_000 });
  await page.locator("ol.rows li", { hasText: "SHIPPED" }).waitFor();
  await snap("order-shipped");
});

await step("an order for more than the stock is refused in words, and the cart keeps what is left", async () => {
  await page.getByRole("link", { name: "Catalogue" }).click();
  await page.getByRole("button", { name: `Add ${product.name} to cart` }).click();
  await page.getByRole("link", { name: /^Cart/ }).click();
  // One unit went to the order above: ask for more than all there was.
  const asked = product.stock + 5;
  await page.getByLabel(`Quantity of ${product.name}`).fill(String(asked));
  await page.getByRole("button", { name: "Place order" }).click();
  await alert().waitFor();
  assert.equal(await alert().getAttribute("data-code"), "OUT_OF_STOCK");
  const left = Number(await page.getByLabel(`Quantity of ${product.name}`).inputValue());
  assert.equal(left, product.stock - 1, "the cart now holds what is left");
  await snap("out-of-stock");
  await page.getByLabel(`Quantity of ${product.name}`).fill("0");
});

await step("a profile saved from a stale page answers VERSION_CONFLICT and shows the stored one", async () => {
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByLabel("Display name").waitFor();
  // Saved elsewhere meanwhile (another tab, another device), with the user's own credentials.
  const login = await post("mutation($i: LoginInput!) { login(input: $i) { accessToken } }", { i: { identifier: email, password: PASSWORD } });
  const token = login.data?.login?.accessToken;
  const me = await post("{ me { profile { version } } }", {}, token);
  const elsewhere = await post(
    "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { version } } }",
    { i: { expectedVersion: me.data.me.profile.version, displayName: "Saved elsewhere" } },
    token,
  );
  assert.ok(elsewhere.data?.updateProfile, JSON.stringify(elsewhere));
  await page.getByLabel("Display name").fill("Typed here");
  await page.getByRole("button", { name: "Save profile" }).click();
  await alert().waitFor();
  assert.equal(await alert().getAttribute("data-code"), "VERSION_CONFLICT");
  await page.waitForFunction(() => document.querySelector("input[name=displayName]")?.value === "Saved elsewhere");
  await snap("version-conflict");
  await page.getByLabel("Display name").fill("Typed here");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.getByText("Saved.").waitFor();
});

await step("a preference is saved when ticked and is still there after a reload", async () => {
  const offers = () => page.getByRole("group", { name: "News and offers" }).getByLabel("Email");
  assert.equal(await offers().isChecked(), false, "marketing is off until the customer opts in");
  // The box shows what is stored: it turns checked once the change is saved and read back.
  await offers().click();
  await page.waitForFunction(() => document.querySelectorAll("fieldset")[1]?.querySelector("input")?.checked === true, null, { timeout: 10_000 });
  await page.reload();
  await offers().waitFor();
  assert.equal(await offers().isChecked(), true);
  await snap("preferences");
});

let mfaSecret = "";
/** The 30-second window whose code turned MFA on: a code is accepted once, so signing in waits
 * for the next one, as a person would see the app's code change. */
let mfaStep = 0;
await step("MFA enrolment shows a QR code, and a code from the app turns it on", async () => {
  await page.getByRole("link", { name: "Security" }).click();
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await page.getByTestId("totp-qr").waitFor();
  const src = await page.getByTestId("totp-qr").getAttribute("src");
  assert.match(src, /^data:image\/png;base64,/);
  mfaSecret = await page.getByTestId("totp-secret").innerText();
  await snap("mfa-qr");
  mfaStep = Math.floor(Date.now() / 30_000);
  await page.getByLabel("Code from the app").fill(totp(mfaSecret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByTestId("recovery-codes").waitFor();
  assert.ok((await page.getByTestId("recovery-codes").locator("li").count()) >= 8);
  await snap("mfa-on");
});

await step("a reload keeps the customer signed in: the refresh token is traded silently", async () => {
  await page.reload();
  await page.getByTestId("sessions").locator("li").first().waitFor();
  await page.getByRole("link", { name: "Orders" }).waitFor();
  await page.getByRole("link", { name: "Orders" }).click();
  await page.getByRole("link", { name: orderNumber }).waitFor();
});

await step("an access token the router refuses is refreshed silently and the query retried", async () => {
  // The next query goes out with a token the router cannot verify (as an expired one would be):
  // the real router answers UNAUTHENTICATED, and the shop must refresh and retry on its own.
  let tampered = 0;
  const refreshes = [];
  page.on("request", (r) => r.postData()?.includes('"operationName":"Refresh"') && refreshes.push(r));
  await page.route("**/graphql", async (route) => {
    const body = route.request().postData() ?? "";
    if (tampered === 0 && body.includes('"operationName":"MyOrders"')) {
      tampered += 1;
      return route.continue({ headers: { ...route.request().headers(), authorization: "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln" } });
    }
    return route.continue();
  });
  // From another page, so the order list is mounted afresh and asks the router again.
  await page.getByRole("link", { name: "Catalogue" }).click();
  const retried = page.waitForRequest((r) => r.postData()?.includes('"operationName":"MyOrders"') && tampered === 1 && refreshes.length === 1, {
    timeout: 10_000,
  });
  await page.getByRole("link", { name: "Orders" }).click();
  await retried;
  await page.getByRole("link", { name: orderNumber }).waitFor();
  await page.unroute("**/graphql");
  assert.equal(tampered, 1, "the query went out once with the refused token");
  assert.equal(refreshes.length, 1, "one refresh, then the retry");
  assert.equal(await alert().count(), 0, "the person saw no error");
});

await step("sign out everywhere ends every session, and the old tokens are refused", async () => {
  await page.getByRole("link", { name: "Security" }).click();
  const sessions = page.getByTestId("sessions").locator("li");
  await sessions.first().waitFor();
  assert.ok((await sessions.count()) >= 2, "the browser's session and the API login of the conflict step");
  await snap("sessions");
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await page.getByRole("button", { name: "Yes, sign out everywhere" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  const refresh = await page.evaluate(() => localStorage.getItem("tessera.refreshToken"));
  assert.equal(refresh, null, "the refresh token is forgotten");
  // A private page now sends the visitor to sign in.
  await page.goto(new URL("orders", base).toString());
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
});

await step("signing in asks for the authenticator code, and wrong passwords are refused in words", async () => {
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await alert().waitFor();
  assert.ok(["UNAUTHENTICATED", "BAD_USER_INPUT", "RATE_LIMITED", "ACCOUNT_LOCKED"].includes(await alert().getAttribute("data-code")));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Two-step verification" }).waitFor();
  while (Math.floor(Date.now() / 30_000) <= mfaStep) await page.waitForTimeout(500);
  await page.getByLabel(/Code from your authenticator app/).fill(totp(mfaSecret));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("link", { name: "Orders" }).waitFor();
  await snap("signed-in-with-mfa");
});

await step("asking for verification codes too often is refused in words that say how long to wait", async () => {
  // A second customer, who signs up and keeps asking for a new code (5 an hour per address).
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Create account" }).click();
  const second = `${name}b`;
  await page.getByLabel("Email").fill(`${second}@example.com`);
  await page.getByLabel("Username").fill(second);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  for (let i = 0; i < 8 && (await alert().count()) === 0; i++) {
    await page.getByRole("button", { name: /Send a new code|Sent again/ }).click();
    await page.waitForTimeout(300);
  }
  assert.equal(await alert().getAttribute("data-code"), "RATE_LIMITED");
  assert.match(await alert().innerText(), /wait \d+ (seconds?|minutes?) and try again/);
  await snap("rate-limited");
});

assert.deepEqual(
  consoleErrors.filter((e) => !/status of 4\d\d/.test(e)),
  [],
  "the browser console stayed clean",
);
await browser.close();
console.log(`screenshots in ${shots}`);
process.exit(0);
