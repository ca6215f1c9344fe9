//! Small HTTP helpers shared by the routes.

use actix_web::guard;
use actix_web::http::header;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use std::net::{IpAddr, Ipv4Addr};

/// A route for `GET` and `HEAD` (actix's `web::get()` matches `GET` only).
pub fn get_or_head() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// `303 See Other` to `location`: the answer to every successful form.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Percent-encodes a value for a query string.
pub fn encode_query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `next` if it is a path on this site, else `/`: never an open redirect.
pub fn local_next(next: &str) -> String {
    let next = next.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000;
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// The peer address (never a forwarded header, which any client can forge).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        assert_eq!(local_next("/admin/posts/new"), "/admin/posts/new");
        assert_eq!(local_next("/?page=2"), "/?page=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "javascript:alert(1)",
            "/\tx",
            "\\\\evil",
        ] {
            assert_eq!(local_next(bad), "/", "{bad:?}");
        }
    }
}
