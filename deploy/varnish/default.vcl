# Varnish 7 in front of one or more folio instances, purged by folio itself
# (FOLIO_EDGE_PURGE=http://<this varnish>) with the xkey module.
#
# - caches only what folio marks public (`Cache-Control: public, s-maxage=…`);
# - passes anything with a folio session cookie, and /admin, /login,
#   /logout, /debug, /preview;
# - accepts PURGE only from the addresses in `purgers`;
# - spreads requests over the instances with a round-robin director.
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
    return (hash);
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
