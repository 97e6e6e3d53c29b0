//! `tessera health [component]`: asks a running component for `/health` on its configured
//! address and exits 0 only on a 200. Container health checks run it, so the image needs no
//! shell and no curl.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The address to probe: a wildcard listen address (`0.0.0.0`, `::`) is reached on loopback.
pub fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// One `GET /health`, within 3 s. Plain HTTP/1.1 over TCP: the probe runs inside the
/// component's own container or pod, next to it.
pub async fn check(listen: SocketAddr) -> anyhow::Result<()> {
    let addr = probe_addr(listen);
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.with_context(|| format!("nothing listens on {addr}"))?;
        let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        let status_line = String::from_utf8_lossy(&head[..n]).lines().next().unwrap_or_default().to_owned();
        anyhow::ensure!(status_line.split(' ').nth(1) == Some("200"), "{addr}/health answered `{status_line}`");
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(3), exchange)
        .await
        .with_context(|| format!("{addr}/health did not answer in 3 s"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listen_address_is_probed_on_loopback() {
        assert_eq!(probe_addr("0.0.0.0:4001".parse().expect("addr")), "127.0.0.1:4001".parse().expect("addr"));
        assert_eq!(probe_addr("[::]:4000".parse().expect("addr")), "[::1]:4000".parse().expect("addr"));
        assert_eq!(probe_addr("10.0.0.7:4002".parse().expect("addr")), "10.0.0.7:4002".parse().expect("addr"));
    }

    #[tokio::test]
    async fn health_fails_when_nothing_listens_and_passes_on_a_200() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("bound");
        assert!(check(free).await.is_err());

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("bound");
        let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        check(addr).await.expect("a 200");
    }

    #[tokio::test]
    async fn health_fails_on_any_other_status() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, axum::Router::new()).await });
        assert!(check(addr).await.is_err(), "a 404 is not healthy");
    }
}
