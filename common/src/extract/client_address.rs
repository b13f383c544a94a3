use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};

/// The address a request came from, for per-client limits: the last hop of `X-Forwarded-For`,
/// which is the one our ingress appends (nginx's `$proxy_add_x_forwarded_for`, ingress-nginx
/// likewise) — earlier hops are whatever the client wrote and are never believed — else the TCP
/// peer. The services are reachable only through the ingress (ClusterIP Services and
/// NetworkPolicies in Kubernetes, 127.0.0.1 locally), so the last hop is the ingress' word.
/// `None` when neither is known (a test calling the router directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        Ok(Self(last_forwarded_hop(&parts.headers).or(peer)))
    }
}

fn last_forwarded_hop(headers: &HeaderMap) -> Option<IpAddr> {
    let last_header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let hop = last_header.to_str().ok()?.rsplit(',').next()?.trim();
    hop.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().expect("a header value"));
        }
        headers
    }

    #[test]
    fn the_last_hop_is_the_ingress_word_and_earlier_ones_are_ignored() {
        assert_eq!(
            last_forwarded_hop(&headers(&["6.6.6.6, 203.0.113.7"])),
            Some("203.0.113.7".parse().expect("an address"))
        );
        assert_eq!(
            last_forwarded_hop(&headers(&["6.6.6.6", "2001:db8::1"])),
            Some("2001:db8::1".parse().expect("an address"))
        );
        assert_eq!(last_forwarded_hop(&headers(&["not an address"])), None);
        assert_eq!(last_forwarded_hop(&HeaderMap::new()), None);
    }
}
