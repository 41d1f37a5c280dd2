//! Where webhook calls may go. A webhook URL is typed by an admin but fetched by the server,
//! so by default it may not reach this machine, a private network or a cloud metadata
//! service. The check runs on the address actually connected to (the resolver below), so a
//! name that resolves elsewhere later (DNS rebinding) is caught too; redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Targets allowed although they are internal: host names, addresses or CIDR ranges.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Reads allow-list entries such as `hooks.internal`, `10.1.2.3` or `10.0.0.0/8`.
    pub fn allowing(entries: &[String]) -> Result<Self, String> {
        let mut policy = OutboundPolicy::default();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
                policy.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!("`{entry}` is not a host name, an address or a CIDR range"));
            }
        }
        Ok(policy)
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_end_matches('.')))
    }

    /// Whether a call may connect to `ip`.
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        is_public(ip) || self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Checks a URL before any call: scheme, and the host if it is written as an address.
    /// A host name is checked when it is resolved.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("the URL is not valid: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs are called".into());
        }
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("the URL has no host".into()),
        };
        if self.ip_allowed(ip) { Ok(()) } else { Err(REFUSED.into()) }
    }

    /// The resolver for the HTTP client: it drops every address the policy refuses.
    pub(crate) fn resolver(&self) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver { policy: self.clone() })
    }
}

/// What the delivery log says for a refused target; nothing about what is there.
pub const REFUSED: &str = "refused: the address is on this machine or a private network \
     (an admin can allow it with --webhook-allow)";

/// An address on the public internet: not loopback, private, link-local (cloud metadata
/// lives at 169.254.169.254), shared, multicast, documentation or otherwise reserved.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0)
        }
    }
}

pub(crate) struct PolicyResolver {
    policy: OutboundPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let trusted = policy.host_allowed(&host);
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| trusted || policy.ip_allowed(a.ip())).collect();
            if allowed.is_empty() {
                return Err(REFUSED.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_targets_are_refused_unless_allowed() {
        let policy = OutboundPolicy::default();
        for url in [
            "http://127.0.0.1:8080/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "file:///etc/passwd",
        ] {
            assert!(policy.check_url(url).is_err(), "{url}");
        }
        for url in ["https://hooks.slack.com/services/x", "http://93.184.216.34/", "https://[2606:4700::1]/"] {
            assert!(policy.check_url(url).is_ok(), "{url}");
        }
        let allowed = OutboundPolicy::allowing(&["127.0.0.1".into(), "10.0.0.0/8".into(), "hooks.lan".into()]).unwrap();
        assert!(allowed.check_url("http://127.0.0.1:9/").is_ok());
        assert!(allowed.check_url("http://10.9.9.9/").is_ok());
        assert!(allowed.check_url("http://192.168.1.1/").is_err());
        assert!(allowed.host_allowed("HOOKS.lan"));
        assert!(OutboundPolicy::allowing(&["not a host!".into()]).is_err());
    }

    #[tokio::test]
    async fn names_that_resolve_inward_are_refused() {
        let resolver = OutboundPolicy::default().resolver();
        let refused = resolver.resolve("localhost".parse().unwrap()).await.err().expect("localhost is refused");
        assert_eq!(refused.to_string(), REFUSED);
        let trusted = OutboundPolicy::allowing(&["localhost".into()]).unwrap().resolver();
        assert!(trusted.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
