//! Notifications pushed live through the router: `notificationAdded` within a second of their
//! cause, only to their user, across a supergraph reload, until the session is revoked; order
//! notifications resolve their order from the orders subgraph.

mod common;

use std::time::{Duration, Instant};

use common::{Registered, admin, gql, register};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::config::SecretUrl;
use tessera_testkit::{
    TestStack, eventually,
    smtp::SmtpServer,
    spawn_configured, test_bus,
    ws::{self, Socket, next_json},
};

const ADDED: &str = "subscription { notificationAdded { kind title body user { id username } } }";
const SEND: &str = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { suppressed delivery { channel status } notification { kind } } }";

async fn stack(smtp: &SmtpServer, supergraph: Option<std::path::PathBuf>) -> TestStack {
    let url = SecretUrl::parse(&smtp.url()).expect("a URL");
    spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.delivery.smtp_url = Some(url);
        if let Some(path) = supergraph {
            c.router.supergraph_path = Some(path);
            c.router.supergraph_poll_ms = 50;
        }
    })
    .await
}

/// Subscribes `user` through the router and waits until the notifications subgraph listens.
async fn listen(stack: &TestStack, user: &Registered, query: &str) -> Socket {
    let rt = &stack.subgraph("notifications").rt;
    let before = rt.bus.listeners();
    let socket = ws::subscribe(&format!("ws://{}/graphql", stack.router), Some(&user.access), query).await;
    eventually("the subscription listens", || async { rt.bus.listeners() > before }).await;
    socket
}

/// Waits until `user`'s welcome has been pushed, so it does not arrive on a later subscription.
async fn settled(stack: &TestStack, user: &Registered) {
    eventually("the welcome is pushed", || async {
        common::count_in(
            stack,
            "notifications",
            "SELECT COUNT(*) FROM deliveries WHERE user_id = $1 AND channel = 'IN_APP' AND status = 'SENT'",
            user.id,
        )
        .await
            >= 1
    })
    .await;
}

/// A stack with an admin (its token) and two users whose welcomes have been pushed.
async fn admin_ada_and_bob(smtp: &SmtpServer) -> (TestStack, String, Registered, Registered) {
    let stack = stack(smtp, None).await;
    let root = admin(&stack).await;
    let (ada, bob) = (register(&stack, "ada").await, register(&stack, "bob").await);
    settled(&stack, &ada).await;
    settled(&stack, &bob).await;
    (stack, root, ada, bob)
}

/// The next `notificationAdded`, failing if it takes more than a second.
async fn within_a_second(socket: &mut Socket, since: Instant) -> Value {
    let msg = tokio::time::timeout(Duration::from_secs(1), next_json(socket))
        .await
        .unwrap_or_else(|_| panic!("nothing within 1 s"))
        .expect("an event");
    assert!(since.elapsed() < Duration::from_secs(1), "took {:?}", since.elapsed());
    eprintln!("notificationAdded arrived {:?} after its cause", since.elapsed());
    msg["payload"]["data"]["notificationAdded"].clone()
}

#[tokio::test]
async fn a_subscriber_sees_an_admin_message_and_a_reset_request_within_a_second_and_nobody_else_does() {
    let smtp = SmtpServer::start().await;
    let (stack, root, ada, bob) = admin_ada_and_bob(&smtp).await;
    let mut ada_socket = listen(&stack, &ada, ADDED).await;
    let mut bob_socket = listen(&stack, &bob, ADDED).await;

    let started = Instant::now();
    let input =
        json!({ "userId": ada.id, "channel": "IN_APP", "subject": "Maintenance tonight", "message": "Back at 2am." });
    let sent = gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    assert_eq!(sent["data"]["sendNotification"]["notification"]["kind"], "ANNOUNCEMENT", "{sent}");
    let pushed = within_a_second(&mut ada_socket, started).await;
    assert_eq!(pushed["title"], "Maintenance tonight");
    assert_eq!(pushed["user"], json!({ "id": ada.id.to_string(), "username": "ada" }), "joined from auth");

    let started = Instant::now();
    let reset = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }";
    gql(&stack, reset, json!({ "i": { "email": "ada@example.com" } }), None).await;
    let pushed = within_a_second(&mut ada_socket, started).await;
    assert_eq!(pushed["kind"], "PASSWORD_RESET", "{pushed}");
    assert!(pushed["body"].as_str().expect("a body").contains("[redacted]"), "{pushed}");

    // The token went out by email only: the push, the history and the log show it redacted.
    eventually("the reset email arrives", || async { smtp.mails_to("ada@example.com").len() == 2 }).await;
    let mail =
        smtp.mails_to("ada@example.com").into_iter().find(|m| m.subject().starts_with("Reset")).expect("a reset mail");
    let text = mail.decoded();
    let token: String = text
        .split("or enter this token: ")
        .nth(1)
        .expect("a token")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert_eq!(token.len(), 43, "{text}");
    assert!(text.contains(&format!("reset-password?token={token}")), "the link carries it too: {text}");
    let history =
        gql(&stack, "{ myNotifications { edges { node { kind body } } } }", json!({}), Some(&ada.access)).await;
    assert!(history.to_string().contains("[redacted]") && !history.to_string().contains(&token), "{history}");
    let log =
        gql(&stack, "{ deliveries(status: SENT, first: 100) { edges { node { preview } } } }", json!({}), Some(&root))
            .await;
    assert!(!log.to_string().contains(&token), "{log}");
    assert!(!pushed.to_string().contains(&token));

    // Bob's socket saw neither of ada's notifications.
    let quiet = tokio::time::timeout(Duration::from_millis(300), next_json(&mut bob_socket)).await;
    assert!(quiet.is_err() || quiet.as_ref().is_ok_and(Option::is_none), "bob received {quiet:?}");
}

/// The router's gauge `name`, read from its `/metrics`.
async fn gauge(stack: &TestStack, name: &str) -> i64 {
    let text = reqwest::get(stack.router_url("/metrics")).await.expect("answers").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("tessera_router_{name} "))?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test]
async fn two_tabs_of_one_user_share_one_upstream_subscription_and_another_user_never_hears_their_events() {
    let smtp = SmtpServer::start().await;
    let (stack, root, ada, bob) = admin_ada_and_bob(&smtp).await;
    let mut first_tab = listen(&stack, &ada, ADDED).await;
    // The second tab joins the first's feed: the subgraph gets no new listener, so wait on the
    // router's own count of subscriptions instead.
    let mut second_tab = ws::subscribe(&format!("ws://{}/graphql", stack.router), Some(&ada.access), ADDED).await;
    eventually("both tabs are subscribed", || async { gauge(&stack, "websocket_subscriptions").await == 2 }).await;
    assert_eq!(gauge(&stack, "subscription_upstreams").await, 1, "one upstream subscription for ada's two tabs");
    let mut bob_socket = listen(&stack, &bob, ADDED).await;
    assert_eq!(gauge(&stack, "subscription_upstreams").await, 2, "bob's is his own");

    let started = Instant::now();
    let input = json!({ "userId": ada.id, "channel": "IN_APP", "subject": "Both tabs", "message": "Hello." });
    gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    for tab in [&mut first_tab, &mut second_tab] {
        assert_eq!(within_a_second(tab, started).await["title"], "Both tabs");
    }
    let quiet = tokio::time::timeout(Duration::from_millis(300), next_json(&mut bob_socket)).await;
    assert!(quiet.is_err() || quiet.as_ref().is_ok_and(Option::is_none), "bob received {quiet:?}");

    // The feed outlives a tab that leaves, and stops with the last one.
    drop(first_tab);
    let started = Instant::now();
    let input = json!({ "userId": ada.id, "channel": "IN_APP", "subject": "One tab left", "message": "Still here." });
    gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    assert_eq!(within_a_second(&mut second_tab, started).await["title"], "One tab left");
    drop(second_tab);
    eventually("ada's feed stops with her last tab", || async { gauge(&stack, "subscription_upstreams").await == 1 })
        .await;
}

#[tokio::test]
async fn one_users_different_subscriptions_ride_one_upstream_connection_and_another_user_gets_their_own() {
    let smtp = SmtpServer::start().await;
    let (stack, root, ada, bob) = admin_ada_and_bob(&smtp).await;
    let titles = "subscription { notificationAdded { title } }";
    let mut full = listen(&stack, &ada, ADDED).await;
    let mut brief = listen(&stack, &ada, titles).await;
    assert_eq!(gauge(&stack, "subscription_upstreams").await, 2, "two different operations: two feeds");
    assert_eq!(gauge(&stack, "subscription_connections").await, 1, "on one connection to notifications");
    let mut bob_socket = listen(&stack, &bob, titles).await;
    assert_eq!(gauge(&stack, "subscription_connections").await, 2, "bob's rides his own");

    let started = Instant::now();
    let input = json!({ "userId": ada.id, "channel": "IN_APP", "subject": "Two shapes", "message": "Hello." });
    gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    let event = within_a_second(&mut full, started).await;
    assert_eq!((&event["title"], &event["user"]["id"]), (&json!("Two shapes"), &json!(ada.id)));
    assert_eq!(within_a_second(&mut brief, started).await, json!({ "title": "Two shapes" }));
    let quiet = tokio::time::timeout(Duration::from_millis(300), next_json(&mut bob_socket)).await;
    assert!(quiet.is_err() || quiet.as_ref().is_ok_and(Option::is_none), "bob received {quiet:?}");

    // Ada's connection outlives one of her subscriptions, and closes with the last.
    drop(full);
    eventually("the full feed stops", || async { gauge(&stack, "subscription_upstreams").await == 2 }).await;
    let started = Instant::now();
    let input = json!({ "userId": ada.id, "channel": "IN_APP", "subject": "Still one", "message": "Hello." });
    gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    assert_eq!(within_a_second(&mut brief, started).await, json!({ "title": "Still one" }));
    assert_eq!(gauge(&stack, "subscription_connections").await, 2);
    drop(brief);
    eventually("ada's connection closes", || async { gauge(&stack, "subscription_connections").await == 1 }).await;
}

#[tokio::test]
async fn the_subscription_survives_a_supergraph_reload_and_closes_with_4403_when_its_session_ends() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("supergraph.graphql");
    let original = tessera::compose::supergraph(&tessera_kit::config::Config::default()).expect("composes");
    std::fs::write(&path, &original).expect("writes");
    let smtp = SmtpServer::start().await;
    let stack = stack(&smtp, Some(path.clone())).await;
    let root = admin(&stack).await;
    let ada = register(&stack, "ada").await;
    settled(&stack, &ada).await;
    let mut socket = listen(&stack, &ada, ADDED).await;

    let changed = original.replace("Whether the caller is signed in", "RELOADED: whether the caller is signed in");
    std::fs::write(&path, &changed).expect("writes");
    eventually("the router serves the new supergraph", || async {
        let (_, body) = tessera_testkit::graphql(
            &stack.router_url("/graphql"),
            r#"{ __type(name: "Query") { fields { description } } }"#,
            None,
        )
        .await;
        body.to_string().contains("RELOADED")
    })
    .await;

    let input =
        json!({ "userId": ada.id, "channel": "IN_APP", "subject": "After the reload", "message": "Still here." });
    gql(&stack, SEND, json!({ "i": input }), Some(&root)).await;
    let pushed = within_a_second(&mut socket, Instant::now()).await;
    assert_eq!(pushed["title"], "After the reload");

    let out = gql(&stack, "mutation { logout { revoked } }", json!({}), Some(&ada.access)).await;
    assert_eq!(out["data"]["logout"]["revoked"], 1, "{out}");
    let closed = next_json(&mut socket).await.expect("the router closes the socket");
    assert_eq!(closed["closed"], 4403, "{closed}");
}

#[tokio::test]
async fn an_order_notification_resolves_its_order_from_the_orders_subgraph() {
    let smtp = SmtpServer::start().await;
    let stack = stack(&smtp, None).await;
    let ada = register(&stack, "ada").await;
    settled(&stack, &ada).await;
    let mut socket =
        listen(&stack, &ada, "subscription { notificationAdded { kind title order { id status totalCents } } }").await;

    // The orders subgraph records an order and its event in one transaction, as checkout will.
    let orders = &stack.subgraph("orders").rt;
    let mut tx = orders.db.begin().await.expect("a transaction");
    let order = tessera_testkit::orders::insert_order_tx(&mut tx, ada.id, "SHIPPED", 4200).await;
    let event = tessera_kit::bus::Event::new(
        "OrderStatusChanged",
        json!({ "orderId": order, "userId": ada.id, "status": "SHIPPED" }),
    );
    tessera_kit::bus::outbox::enqueue(&mut tx, &event).await.expect("enqueued");
    tx.commit().await.expect("commits");
    orders.relay.poke();

    let msg = next_json(&mut socket).await.expect("an event");
    let pushed = &msg["payload"]["data"]["notificationAdded"];
    assert_eq!(pushed["kind"], "ORDER_STATUS_CHANGED", "{msg}");
    assert_eq!(pushed["title"], "Your order is shipped");
    assert_eq!(pushed["order"], json!({ "id": order.to_string(), "status": "SHIPPED", "totalCents": 4200 }), "{msg}");
    eventually("the order email arrives", || async { smtp.mails_to("ada@example.com").len() == 2 }).await;
}

#[tokio::test]
async fn a_notification_created_in_one_process_reaches_a_subscriber_connected_to_another_over_redis() {
    let Some(redis) = tessera_testkit::redis_server::RedisServer::start().await else {
        eprintln!("skipped: redis-server is not installed (.ci/run installs it)");
        return;
    };
    // Two deployments of the whole stack, each with its own Redis connection, as two processes.
    let namespace = format!("cross-{}", uuid::Uuid::now_v7().simple());
    let bus = || async { tessera_kit::bus::Bus::connect(Some(&redis.url()), &namespace).await.expect("connects") };
    // Processes that share a bus share its seal key, as a deployment must (`bus.seal_key`).
    let shared = |c: &mut tessera_kit::config::Config| c.bus.seal_key = Some("one key for the bus".into());
    let here = spawn_configured(&SUBGRAPHS, bus().await, shared).await;
    let there = spawn_configured(&SUBGRAPHS, bus().await, shared).await;
    let root = admin(&here).await;
    let user = uuid::Uuid::now_v7();
    let token = common::token(&there, user, &["customer"]).await;
    let mut socket = ws::subscribe(&format!("ws://{}/graphql", there.router), Some(&token), ADDED).await;
    let rt = &there.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    let input = json!({ "userId": user, "channel": "IN_APP", "subject": "From the other process", "message": "Hi." });
    let sent = gql(&here, SEND, json!({ "i": input }), Some(&root)).await;
    assert_eq!(sent["data"]["sendNotification"]["notification"]["kind"], "ANNOUNCEMENT", "{sent}");
    let pushed = within_a_second(&mut socket, Instant::now()).await;
    assert_eq!(pushed["title"], "From the other process", "{pushed}");
}
