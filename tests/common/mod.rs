//! Helpers the end-to-end tests share. Each test binary uses a subset of them.
#![allow(dead_code)]

pub mod shop;

use tessera_auth::KeyRing;
use tessera_kit::on_db;
use tessera_notifications::store::Notification;
use tessera_testkit::{TestStack, claims_for};
use uuid::Uuid;

/// An access token for `user` with `roles`, signed with the auth subgraph's real key.
pub async fn token(stack: &TestStack, user: Uuid, roles: &[&str]) -> String {
    KeyRing::open(&stack.subgraph("auth").rt).await.expect("the key ring loads").sign(&claims_for(user, roles))
}

/// An account (in the auth subgraph's database) and a customer token for it.
pub async fn account(stack: &TestStack, username: &str) -> (Uuid, String) {
    let user = Uuid::now_v7();
    let auth = &stack.subgraph("auth").rt.db;
    on_db!(auth, |pool| sqlx::query("INSERT INTO accounts (id, email, username, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user)
        .bind(format!("{username}@example.com"))
        .bind(username)
        .bind(chrono::Utc::now())
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("account");
    (user, token(stack, user, &["customer"]).await)
}

/// An unread in-app notification for `user`.
pub fn notification(user: Uuid, title: &str) -> Notification {
    Notification {
        id: Uuid::now_v7(),
        user_id: user,
        kind: "TEST".into(),
        title: title.into(),
        body: "body".into(),
        read_at: None,
        created_at: chrono::Utc::now(),
        order_id: None,
    }
}

/// A password the rules accept (long, unrelated words, no username in it).
pub const PASSWORD: &str = "violet kettle drifting over marble";

/// A GraphQL request through the router.
pub async fn gql(
    stack: &TestStack,
    query: &str,
    variables: serde_json::Value,
    token: Option<&str>,
) -> serde_json::Value {
    tessera_testkit::graphql_with(&stack.router_url("/graphql"), query, variables, token).await.1
}

/// The first error's `extensions.code`, or "" when there is none.
pub fn code(body: &serde_json::Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned()
}

/// A signed-up user, through the router.
pub struct Registered {
    pub id: Uuid,
    pub access: String,
    pub refresh: String,
}

/// Registers `username` (email `<username>@example.com`) through the router.
pub async fn register(stack: &TestStack, username: &str) -> Registered {
    let body = gql(
        stack,
        "mutation($i: RegisterInput!) { register(input: $i) { user { id } accessToken refreshToken } }",
        serde_json::json!({ "i": { "email": format!("{username}@example.com"), "username": username, "password": PASSWORD } }),
        None,
    )
    .await;
    let r = &body["data"]["register"];
    Registered {
        id: r["user"]["id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(|| panic!("registered: {body}")),
        access: r["accessToken"].as_str().expect("an access token").to_owned(),
        refresh: r["refreshToken"].as_str().expect("a refresh token").to_owned(),
    }
}

pub const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { user { id username } accessToken refreshToken expiresAt mfaRequired mfaChallenge } }";

/// A sign-in attempt through the router; the whole response.
pub async fn login(stack: &TestStack, identifier: &str, password: &str) -> serde_json::Value {
    gql(stack, LOGIN, serde_json::json!({ "i": { "identifier": identifier, "password": password } }), None).await
}

pub const REFRESH: &str =
    "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken expiresAt } }";

pub async fn refresh(stack: &TestStack, token: &str) -> serde_json::Value {
    gql(stack, REFRESH, serde_json::json!({ "i": { "refreshToken": token } }), None).await
}

/// The payloads of the auth subgraph's outbox events of `kind`, oldest first: where tests read
/// the codes and links the notifications subgraph would send.
pub async fn sent(stack: &TestStack, kind: &str) -> Vec<serde_json::Value> {
    let db = &stack.subgraph("auth").rt.db;
    let rows: Vec<String> =
        on_db!(db, |pool| sqlx::query_scalar("SELECT payload FROM outbox WHERE kind = $1 ORDER BY created_at, id")
            .bind(kind)
            .fetch_all(pool)
            .await)
        .expect("the outbox reads");
    rows.iter().map(|r| serde_json::from_str::<serde_json::Value>(r).expect("JSON")["payload"].clone()).collect()
}

/// Every message the development sinks hold (no `SMTP_URL`, no SMS webhook), oldest first: the
/// decoded `.eml` files, then the SMS lines.
pub fn sunk(stack: &TestStack) -> Vec<String> {
    let dir = stack.config.data_dir.join("mail");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    files.sort(); // UUIDv7 names: creation order
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|m| tessera_testkit::smtp::decode_quoted_printable(&m))
        .collect();
    let sms = std::fs::read_to_string(stack.config.data_dir.join("sms.log")).unwrap_or_default();
    out.extend(sms.lines().map(str::to_owned));
    out
}

/// The secret (code or token) after `marker` in the `n`-th message (1-based) that holds the
/// marker, waiting until the notifications subgraph has sent it: tests read codes where a user
/// would, since the outbox keeps them redacted once published.
pub async fn secret_sent(stack: &TestStack, marker: &str, n: usize) -> String {
    let found = || {
        sunk(stack).into_iter().filter(|m| m.contains(marker)).nth(n - 1).map(|m| {
            let rest = &m[m.find(marker).expect("holds the marker") + marker.len()..];
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>()
        })
    };
    tessera_testkit::eventually("the message is sent", || async { found().is_some() }).await;
    found().expect("found")
}

/// How many security events of `kind` the auth subgraph recorded.
pub async fn security_events(stack: &TestStack, kind: &str) -> i64 {
    let db = &stack.subgraph("auth").rt.db;
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM security_events WHERE kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await)
    .expect("the audit trail reads")
}

/// An active product put straight into the products subgraph's database (for tests whose
/// subject is not the catalogue's admin path), with `stock` units.
pub async fn product(stack: &TestStack, name: &str, cents: i64, stock: i64) -> Uuid {
    use tessera_products::{
        domain::{Status, money::Price},
        store::catalogue::{NewProduct, insert},
    };
    let db = &stack.subgraph("products").rt.db;
    let mut tx = db.begin().await.expect("a transaction");
    let new = NewProduct {
        sku: format!("T-{}", Uuid::now_v7().simple()),
        name: name.to_owned(),
        description: String::new(),
        price: Price { amount: cents, currency: "EUR".into() },
        status: Status::Active,
        categories: Vec::new(),
        images: Vec::new(),
        stock,
    };
    let row = insert(&mut tx, &new).await.expect("the product inserts");
    tx.commit().await.expect("commits");
    row.id
}

/// An admin created the way an operator would (`tessera admin create`), signed in for real.
pub async fn admin(stack: &TestStack) -> String {
    let state = tessera_auth::State::open(stack.subgraph("auth").rt.clone()).await.expect("auth state");
    let password = tessera_auth::bootstrap::create_admin(&state, "root@example.com")
        .await
        .unwrap_or_else(|e| panic!("{}", e.message))
        .expect("a new account and its one-time password");
    let body = login(stack, "root@example.com", &password).await;
    body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// A count from one subgraph's database: `sql` takes the user id as `$1`.
pub async fn count_in(stack: &TestStack, subgraph: &str, sql: &str, user: Uuid) -> i64 {
    let db = &stack.subgraph(subgraph).rt.db;
    on_db!(db, |pool| sqlx::query_scalar(sql).bind(user).fetch_one(pool).await)
        .unwrap_or_else(|e| panic!("{subgraph}: {sql}: {e}"))
}

/// Waits until the users subgraph has applied `user`'s `AccountRegistered`.
pub async fn eventually_profile(stack: &TestStack, user: Uuid) {
    tessera_testkit::eventually("the profile is created", || async {
        count_in(stack, "users", "SELECT COUNT(*) FROM profiles WHERE user_id = $1", user).await == 1
    })
    .await;
}

/// Decodes the base32 secret the way an authenticator app does.
pub fn totp_secret(base32: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in base32.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base32") as u64;
        bits = (bits << 5) | v;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// Now, in the seconds an authenticator app counts.
pub fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970")
}

/// Turns TOTP on for a freshly signed-in user and returns the secret.
pub async fn enable_totp(stack: &TestStack, access: &str) -> Vec<u8> {
    let enrolled = gql(stack, "mutation { enrollTotp { secret } }", serde_json::json!({}), Some(access)).await;
    let secret = totp_secret(enrolled["data"]["enrollTotp"]["secret"].as_str().unwrap_or_else(|| panic!("{enrolled}")));
    let confirm = "mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes } }";
    let code_now = tessera_auth::domain::totp::code_at(&secret, now());
    let confirmed = gql(stack, confirm, serde_json::json!({ "i": { "code": code_now } }), Some(access)).await;
    assert!(confirmed["data"]["confirmTotp"]["recoveryCodes"].is_array(), "{confirmed}");
    secret
}
