//! Helpers the end-to-end tests share. Each test binary uses a subset of them.
#![allow(dead_code)]

use tessera_auth::KeyRing;
use tessera_kit::on_db;
use tessera_notifications::store::Notification;
use tessera_testkit::{TestStack, claims_for};
use uuid::Uuid;

/// An access token for `user` with `roles`, signed with the auth subgraph's real key.
pub async fn token(stack: &TestStack, user: Uuid, roles: &[&str]) -> String {
    KeyRing::load_or_create(&stack.subgraph("auth").rt.db, 900)
        .await
        .expect("the key ring loads")
        .sign(&claims_for(user, roles))
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
    }
}
