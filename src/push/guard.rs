//! The SSRF guard: the server POSTs to URLs its users give it (push endpoints, ntfy/Gotify
//! addresses), so those URLs must not reach the server's own machine or its private network.
//! A URL must be `https` and every address its host resolves to must be public (not loopback,
//! private, shared, link-local, unique-local, multicast, reserved or unspecified). The check
//! runs when a URL is stored and again for every request, inside the HTTP client's resolver,
//! so the client connects only to addresses that were just checked (no second resolution
//! that a rebinding DNS server could answer differently).
//!
//! `--push-private-endpoints on` allows private addresses and plain `http` (a push service or
//! ntfy on the LAN, and the tests' local fake push service).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// The longest URL accepted (browsers' push endpoints are a few hundred bytes).
pub const MAX_URL_BYTES: usize = 2048;

/// Whether private addresses and plain `http` are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow_private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    Invalid(&'static str),
    NotHttps,
    Unresolvable(String),
    Forbidden(IpAddr),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(why) => write!(f, "invalid URL: {why}"),
            UrlError::NotHttps => f.write_str("the URL must start with https://"),
            UrlError::Unresolvable(host) => write!(f, "the host {host} cannot be resolved"),
            UrlError::Forbidden(ip) => {
                write!(f, "the URL points to a private or local address ({ip}), which is not allowed")
            }
        }
    }
}

/// A URL that passed the syntactic checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `scheme://host[:port]`, as a VAPID `aud` claim names it.
    pub origin: String,
    pub host: String,
    pub port: u16,
}

/// Checks a URL's form: absolute, `https` (or `http` if allowed), a host, no user info.
pub fn parse(url: &str, policy: Policy) -> Result<Target, UrlError> {
    if url.len() > MAX_URL_BYTES {
        return Err(UrlError::Invalid("longer than 2048 bytes"));
    }
    let uri: Uri = url.parse().map_err(|_| UrlError::Invalid("not a URL"))?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") if policy.allow_private => 80,
        Some("http") => return Err(UrlError::NotHttps),
        Some(_) => return Err(UrlError::NotHttps),
        None => return Err(UrlError::Invalid("not an absolute URL")),
    };
    let authority = uri.authority().ok_or(UrlError::Invalid("no host"))?;
    if authority.as_str().contains('@') {
        return Err(UrlError::Invalid("user names and passwords in URLs are not allowed"));
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(UrlError::Invalid("no host"));
    }
    let port = authority.port_u16().unwrap_or(default_port);
    let scheme = uri.scheme_str().unwrap_or("https");
    let origin = match authority.port_u16() {
        Some(p) => format!("{scheme}://{}:{p}", authority.host()),
        None => format!("{scheme}://{}", authority.host()),
    };
    Ok(Target { origin: origin.to_ascii_lowercase(), host: host.to_string(), port })
}

/// Resolves a checked URL's host and checks every address (blocking: DNS).
pub fn resolve(target: &Target, policy: Policy) -> Result<Vec<SocketAddr>, UrlError> {
    let addrs: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|_| UrlError::Unresolvable(target.host.clone()))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(UrlError::Unresolvable(target.host.clone()));
    }
    if !policy.allow_private
        && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
    {
        return Err(UrlError::Forbidden(bad.ip()));
    }
    Ok(addrs)
}

/// [`parse`] and [`resolve`]: what a URL must pass to be stored.
pub fn check(url: &str, policy: Policy) -> Result<Target, UrlError> {
    let target = parse(url, policy)?;
    resolve(&target, policy)?;
    Ok(target)
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10: carrier-grade NAT, shared address space.
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24: protocol assignments; 198.18.0.0/15: benchmarking.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4: reserved.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // 64:ff9b::/96, NAT64: the IPv4 address it embeds decides.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated).
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // ::/96, the deprecated IPv4-compatible form, and 2001:db8::/32, documentation.
        || s[..6] == [0, 0, 0, 0, 0, 0]
        || (s[0] == 0x2001 && s[1] == 0xdb8))
}

/// The HTTP client's resolver: resolves with [`resolve`], so a request connects only to
/// addresses this guard has just allowed.
#[derive(Debug)]
pub struct GuardedResolver {
    pub policy: Policy,
}

/// The error a refused address turns into inside the HTTP client; the sender recognises it
/// (it is not worth a retry).
pub const REFUSED: std::io::ErrorKind = std::io::ErrorKind::PermissionDenied;

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let target = parse(&uri.to_string(), self.policy)
            .map_err(|e| ureq::Error::Io(std::io::Error::new(REFUSED, e.to_string())))?;
        let addrs = match resolve(&target, self.policy) {
            Ok(addrs) => addrs,
            Err(UrlError::Unresolvable(_)) => return Err(ureq::Error::HostNotFound),
            Err(e) => return Err(ureq::Error::Io(std::io::Error::new(REFUSED, e.to_string()))),
        };
        let mut out = self.empty();
        for addr in addrs.into_iter().take(16) {
            out.push(addr);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy { allow_private: false };
    const LAN: Policy = Policy { allow_private: true };

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "142.250.74.106", "2a00:1450:4001:82b::200a", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn parses_and_refuses_urls() {
        let t = parse("https://fcm.googleapis.com/fcm/send/abc", STRICT).unwrap();
        assert_eq!((t.origin.as_str(), t.port), ("https://fcm.googleapis.com", 443));
        let t = parse("https://[2a00:1450::1]:8443/x", STRICT).unwrap();
        assert_eq!((t.origin.as_str(), t.host.as_str(), t.port), ("https://[2a00:1450::1]:8443", "2a00:1450::1", 8443));
        assert_eq!(parse("http://example.com/x", STRICT), Err(UrlError::NotHttps));
        assert_eq!(parse("ftp://example.com/x", LAN), Err(UrlError::NotHttps));
        assert!(parse("http://example.com/x", LAN).is_ok());
        assert!(matches!(parse("https://user:pw@example.com/", STRICT), Err(UrlError::Invalid(_))));
        assert!(matches!(parse("/relative", STRICT), Err(UrlError::Invalid(_))));
        assert!(matches!(
            parse(&format!("https://a.com/{}", "x".repeat(MAX_URL_BYTES)), STRICT),
            Err(UrlError::Invalid(_))
        ));
        assert_eq!(check("https://127.0.0.1/x", STRICT), Err(UrlError::Forbidden("127.0.0.1".parse().unwrap())));
        assert_eq!(check("https://[::1]/x", STRICT), Err(UrlError::Forbidden("::1".parse().unwrap())));
        assert!(matches!(check("https://localhost/x", STRICT), Err(UrlError::Forbidden(_))));
        assert!(check("https://127.0.0.1/x", LAN).is_ok());
    }
}
