# Varnish 7 in front of one or more folio instances, purged by folio itself
# (FOLIO_EDGE_PURGE=http://<this varnish>) with the xkey module.
#
# - caches only what folio marks public (`Cache-Control: public, s-maxage=…`);
# - passes anything with a folio session cookie, and /admin, /login,
#   /logout, /debug, /preview;
# - accepts PURGE only from the addresses in `purgers`;
# - spreads requests over the instances with a round-robin director;
# - keeps at most one object per page and encoding: folio stores each page
#   as brotli and gzip, so the client's Accept-Encoding is reduced to br,
#   gzip or nothing, hashed, and sent to folio as that (Varnish's own gzip
#   handling would otherwise ask folio for gzip only).
#
# Add one `backend` and one `folio.add_backend` line per instance.

vcl 4.1;

import directors;
import xkey;

backend folio1 {
    .host = "127.0.0.1";
    .port = "8080";
}

# The folio instances: only they may purge.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new folio = directors.round_robin();
    folio.add_backend(folio1);
}

sub vcl_recv {
    set req.backend_hint = folio.backend();

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "xkey-purge header required"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url ~ "^/(admin|login|logout|debug|preview)(/|$|\?)") {
        return (pass);
    }
    if (req.http.Cookie ~ "(^|;\s*)folio_session=") {
        return (pass);
    }
    # Anonymous pages hold nothing personal: one object serves everyone.
    unset req.http.Cookie;
    # br, else gzip, else identity; a coding refused with q=0 is not taken.
    if (req.http.Accept-Encoding ~ "(?i)(^|,)\s*br\s*(;\s*q\s*=\s*(1|0\.[0-9]*[1-9])[0-9.]*\s*)?(,|$)") {
        set req.http.X-Folio-Encoding = "br";
    } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*(x-)?gzip\s*(;\s*q\s*=\s*(1|0\.[0-9]*[1-9])[0-9.]*\s*)?(,|$)") {
        set req.http.X-Folio-Encoding = "gzip";
    } else {
        unset req.http.X-Folio-Encoding;
    }
    return (hash);
}

sub vcl_hash {
    # One object per page and encoding (then the built-in URL and host).
    if (req.http.X-Folio-Encoding) {
        hash_data(req.http.X-Folio-Encoding);
    }
}

sub vcl_backend_fetch {
    # Ask folio for exactly the encoding this object is kept in.
    if (bereq.http.X-Folio-Encoding) {
        set bereq.http.Accept-Encoding = bereq.http.X-Folio-Encoding;
    } elsif (bereq.uncacheable) {
        # A pass keeps the client's own header.
    } else {
        unset bereq.http.Accept-Encoding;
    }
    unset bereq.http.X-Folio-Encoding;
}

sub vcl_backend_response {
    if (beresp.http.Set-Cookie || beresp.http.Cache-Control !~ "public") {
        # Remember for a moment that this URL is not cacheable, then ask again.
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        return (deliver);
    }
    # Folio purges what changes; an expired object is not served while refetched.
    set beresp.grace = 0s;
    return (deliver);
}
