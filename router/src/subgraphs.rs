//! Where the router reaches each subgraph. The supergraph names every subgraph and its URL
//! (`@join__graph(name:, url:)`), so the router serves any supergraph with no configuration;
//! `router.subgraph_urls.<name>` overrides a URL (a container's own address, a test's port),
//! and `router.traffic.replicas.<name>` adds more.

use std::collections::{BTreeMap, HashMap};

/// The subgraphs the router fronts, by name, with their GraphQL endpoints.
#[derive(Debug, Clone, Default)]
pub struct Subgraphs(BTreeMap<String, url::Url>);

impl Subgraphs {
    /// From configured URLs. A URL whose path is `/` is a Tessera base and `graphql` is appended
    /// (`http://auth:4001/` means `http://auth:4001/graphql`); any other path is the endpoint.
    pub fn from_urls(urls: impl IntoIterator<Item = (String, url::Url)>) -> Self {
        Self(urls.into_iter().map(|(name, url)| (name, endpoint(&url))).collect())
    }

    /// These URLs over the supergraph's own: the supergraph names the subgraphs, and an entry
    /// here replaces its URL. A subgraph with neither is an error that names the setting.
    pub fn over(self, supergraph: &HashMap<String, String>) -> anyhow::Result<Self> {
        let mut out = BTreeMap::new();
        for (name, url) in supergraph {
            let url = match self.0.get(name) {
                Some(configured) => configured.clone(),
                None => url::Url::parse(url).map_err(|e| {
                    anyhow::anyhow!(
                        "subgraph `{name}` has no usable URL in the supergraph ({url:?}: {e}): set router.subgraph_urls.{name}"
                    )
                })?,
            };
            out.insert(name.clone(), url);
        }
        Ok(Self(out))
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    pub fn graphql_url(&self, name: &str) -> Option<url::Url> {
        self.0.get(name).cloned()
    }

    /// The subgraph's GraphQL endpoint as a websocket URL (`ws://…`, or `wss://`).
    pub fn ws_url(&self, name: &str) -> Option<url::Url> {
        let mut url = self.graphql_url(name)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme).ok()?;
        Some(url)
    }

    /// Where a Tessera subgraph says it is ready: `/ready` beside its endpoint.
    pub fn ready_url(&self, name: &str) -> Option<url::Url> {
        self.0.get(name).and_then(|u| u.join("ready").ok())
    }
}

/// A configured URL as an endpoint (see [`Subgraphs::from_urls`]).
pub fn endpoint(url: &url::Url) -> url::Url {
    if url.path() == "/" || url.path().is_empty() {
        url.join("graphql").expect("a base URL joins a path")
    } else {
        url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("a URL")
    }

    #[test]
    fn the_supergraph_names_the_urls_and_configuration_overrides_them() {
        let supergraph: HashMap<String, String> = [
            ("inventory".to_owned(), "http://inventory.internal:8080/query".to_owned()),
            ("reviews".to_owned(), "http://reviews:4002/graphql".to_owned()),
        ]
        .into();
        let configured = Subgraphs::from_urls([("reviews".to_owned(), url("http://127.0.0.1:9999/"))]);
        let subgraphs = configured.over(&supergraph).expect("every subgraph has a URL");
        assert_eq!(subgraphs.graphql_url("inventory"), Some(url("http://inventory.internal:8080/query")));
        assert_eq!(
            subgraphs.graphql_url("reviews"),
            Some(url("http://127.0.0.1:9999/graphql")),
            "a base gets /graphql"
        );
        assert_eq!(subgraphs.ws_url("inventory"), Some(url("ws://inventory.internal:8080/query")));
        assert_eq!(subgraphs.ready_url("reviews"), Some(url("http://127.0.0.1:9999/ready")));
        assert_eq!(subgraphs.names().count(), 2, "only the supergraph's subgraphs");
    }

    #[test]
    fn a_subgraph_without_a_url_names_the_setting_to_fix() {
        let supergraph: HashMap<String, String> = [("inventory".to_owned(), String::new())].into();
        let err = Subgraphs::default().over(&supergraph).expect_err("no URL");
        assert!(err.to_string().contains("router.subgraph_urls.inventory"), "{err}");
    }
}
