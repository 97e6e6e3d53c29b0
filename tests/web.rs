//! The example shop's build, served by `tessera dev` at `/app` on the router's origin.

use std::{net::SocketAddr, path::Path};

use tessera::{launch, web};
use tessera_kit::{CancellationToken, config::Config};

const INDEX: &str = "<!doctype html><title>shop</title><script type=module src=/app/assets/app.js></script>";

fn built_shop(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("a directory");
    std::fs::write(dir.join("index.html"), INDEX).expect("written");
    std::fs::write(dir.join("assets/app.js"), "console.log('shop')").expect("written");
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds port 0");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let res = reqwest::get(format!("http://{addr}{path}")).await.expect("answers");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.expect("text"), headers)
}

#[tokio::test]
async fn the_shop_answers_its_files_its_own_routes_with_index_html_and_a_strict_csp() {
    let dir = tempfile::tempdir().expect("a directory");
    built_shop(dir.path());
    std::fs::write(dir.path().parent().expect("a parent").join("outside.txt"), "secret").ok();
    let addr = serve(web::mount(axum::Router::new(), dir.path())).await;

    let (status, body, headers) = get(addr, "/app/").await;
    assert_eq!((status, body.as_str()), (200, INDEX));
    let csp = headers["content-security-policy"].to_str().expect("ASCII");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (status, body, headers) = get(addr, "/app/assets/app.js").await;
    assert_eq!((status, body.as_str()), (200, "console.log('shop')"));
    assert!(headers["content-type"].to_str().expect("ASCII").contains("javascript"));

    // A reload on one of the shop's own pages gets the shop, which then shows that page.
    let (status, body, _) = get(addr, "/app/orders/01a2438d-f077-778c-96ab-5c1817ea3243").await;
    assert_eq!((status, body.as_str()), (200, INDEX));

    // Nothing outside the build directory is reachable, however the path is spelled.
    for path in ["/app/../outside.txt", "/app/%2e%2e/outside.txt", "/app/..%2foutside.txt"] {
        let (_, body, _) = get(addr, path).await;
        assert_ne!(body, "secret", "{path}");
    }
}

#[tokio::test]
async fn without_a_build_nothing_is_mounted_at_app() {
    let dir = tempfile::tempdir().expect("an empty directory");
    assert!(!web::present(dir.path()));
    let addr = serve(web::mount(axum::Router::new(), dir.path())).await;
    assert_eq!(get(addr, "/app/").await.0, 404);
}

#[tokio::test]
async fn tessera_dev_serves_a_built_shop_beside_the_graph_and_its_banner_names_it() {
    let data = tempfile::tempdir().expect("a directory");
    let shop = tempfile::tempdir().expect("a directory");
    built_shop(shop.path());
    let mut config = Config { data_dir: data.path().to_path_buf(), ..Config::default() };
    config.catalogue.demo_catalogue = false;
    config.router.listen = "127.0.0.1:0".parse().expect("an address");
    for name in ["auth", "users", "products", "orders", "notifications"] {
        config.subgraph_mut(name).listen = "127.0.0.1:0".parse().expect("an address");
    }
    config.router.web_dir = shop.path().to_path_buf();
    let stop = CancellationToken::new();
    let running = launch::dev(config, stop.clone()).await.expect("the stack starts");
    let router = running.router.expect("a router");

    let banner = running.banner();
    assert!(banner.contains(&format!("Shop            http://{router}/app/")), "{banner}");
    assert_eq!(get(router, "/app/").await.1, INDEX);
    // The graph is still the router's, on the same origin.
    let res = reqwest::Client::new()
        .post(format!("http://{router}/graphql"))
        .json(&serde_json::json!({ "query": "{ signedIn }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("JSON"),
        serde_json::json!({ "data": { "signedIn": false } })
    );

    stop.cancel();
    running.wait().await.expect("stops cleanly");
}
