//! What every connection a server accepts is set to.

/// Bytes a websocket reserves to read, and gathers before it writes. tungstenite's defaults are
/// 128 KiB each, reserved for every socket: ten thousand subscribers, each with a socket to the
/// router and the router's own to the subgraph, were gigabytes. GraphQL messages are small (a
/// subscription event is a few hundred bytes); a larger frame grows the buffer to its length.
/// Every websocket in the stack uses it: the router's to clients and to subgraphs, and the
/// subgraphs'. 4 KiB cost 3 KB more per socket than 1 KiB (`bench/subscriptions`).
pub const WEBSOCKET_BUFFER: usize = 1024;

/// Send what is written at once (`TCP_NODELAY`). With Nagle's algorithm on, a small write waits
/// until the peer acknowledges the last one, and a client on a kept-alive connection delays that
/// acknowledgement by up to 40 ms: each `@defer` part and each multipart subscription event
/// after the first arrived about 40 ms late (`bench/defer/bench.py` measures it).
pub fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_accepted_connection_sends_small_writes_without_waiting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (mut accepted, _) = listener.accept().await.expect("accept");
        assert!(!accepted.nodelay().expect("read TCP_NODELAY"), "the kernel's default is Nagle's algorithm");
        no_delay(&mut accepted);
        assert!(accepted.nodelay().expect("read TCP_NODELAY"));
    }
}
