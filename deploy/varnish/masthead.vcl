vcl 4.1;
# masthead behind Varnish: Debian bookworm's varnish 7.1 (apt-get install varnish).
#
# Varnish holds the anonymous pages masthead marks public, for as long as its Cache-Control
# s-maxage says, and serves them stale for stale-while-revalidate while it refetches. masthead
# bans them by surrogate key the moment they change (masthead.caching.varnish, VARNISH_URL), so
# a long s-maxage never means a stale page. Anything personal goes straight to masthead.
# deploy/varnish/README.md says how to run it.

import std;

# Is masthead up? While it is not, cached pages are served stale for their stale-if-error,
# and other requests get a 503 at once. Sick after 2 failed polls of 3, well again after 2
# good ones, so a restart of masthead costs a few seconds.
probe masthead_up {
    .url = "/robots.txt";
    .interval = 2s;
    .timeout = 2s;
    .window = 3;
    .threshold = 2;
    .initial = 2;                   # healthy from the start, not after the first polls
}

# masthead's production server: `masthead serve --host 127.0.0.1 --port 8000`.
# Another port or machine: change .host/.port here (tests/caching/test_varnish.py rewrites
# this line for its own ports), then `varnishreload` or restart varnishd.
backend masthead {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 35s;      # gunicorn gives up on a request after 30 s
    .between_bytes_timeout = 10s;
    .max_connections = 256;
    .probe = masthead_up;
}

# Who may BAN and PURGE. Add the addresses of the machines that run masthead when Varnish is
# on another machine. Never put the address of a proxy in front of Varnish here (see README).
acl purgers {
    "127.0.0.1";
    "::1";
    # "10.0.0.0"/8;
}

sub vcl_recv {
    # --- Purging --------------------------------------------------------------------------
    # BAN / with "Surrogate-Key: k1 k2 ...": drop every object that carries any of the keys.
    # PURGE <url>: drop that one URL (all its variants).
    if (req.method == "BAN" || req.method == "PURGE") {
        # A request relayed by another proxy has a client address in X-Forwarded-For before
        # ours: refuse it even if that proxy sits on loopback.
        if (client.ip !~ purgers || req.http.X-Forwarded-For ~ ",") {
            return (synth(403, "Forbidden"));
        }
        if (req.method == "PURGE") {
            # Both copies (see vcl_hash): the gzip one now, the plain one after a restart.
            if (req.restarts == 0) {
                set req.http.X-Varnish-Copy = "gzip";
            } else {
                set req.http.X-Varnish-Copy = "plain";
            }
            return (purge);
        }
        # Keys are lowercase tokens; checking them also keeps the ban regex free of metacharacters.
        if (req.http.Surrogate-Key !~ "^[a-z0-9-]+( [a-z0-9-]+)*$") {
            return (synth(400, "Bad Surrogate-Key"));
        }
        # Only obj.* in the expression, so the ban lurker can apply it in the background. The
        # regex has no spaces ([[:space:]]), so the ban needs no quoting:
        #   obj.http.Surrogate-Key ~ (^|[[:space:]])(a12|s3)([[:space:]]|$)
        if (std.ban("obj.http.Surrogate-Key ~ (^|[[:space:]])(" +
                    regsuball(req.http.Surrogate-Key, " ", "|") + ")([[:space:]]|$)")) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }

    # --- What never comes from the cache --------------------------------------------------
    unset req.http.X-Cache;
    unset req.http.X-Varnish-Copy;
    if (req.restarts == 0) {
        unset req.http.X-Refetch;
    } elsif (req.http.X-Refetch) {
        set req.grace = 0s;         # see vcl_hit: this time, no stale copy
    }
    call vcl_req_host;              # builtin: lowercase Host, 400 without one
    call vcl_req_method;            # builtin: POST and other methods pass, unknown ones pipe
    # The admin (previews and drafts included), documents (may be private), comments
    # (tickets, posts, signed links), the Mastodon share form and search (one-off queries) are
    # masthead's to answer: it marks them private too (MASTHEAD_CACHE_PRIVATE_PATHS).
    if (req.url ~ "^/(admin|documents|comments|share|search)(/|$)") {
        return (pass);
    }
    # An editor or any logged-in person: Django's session, or flash messages meant for them.
    # (If you rename SESSION_COOKIE_NAME or MESSAGE_COOKIE_NAME, rename them here too.)
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(sessionid|messages)=") {
        return (pass);
    }
    # Everyone else sees the same page: cached pages carry no CSRF token (the comment form
    # fetches one from /comments/ticket/), so csrftoken and any analytics or consent cookie
    # make no difference to them.
    unset req.http.Cookie;

    # --- One cache entry per page ---------------------------------------------------------
    # Campaign and click-id parameters from shared links: a viral link with a fresh fbclid on
    # every click would otherwise miss every time.
    if (req.url ~ "[?&](utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid)=") {
        set req.url = regsuball(req.url, "(?<=[?&])(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid)=[^&#]*&?", "");
        set req.url = regsub(req.url, "[?&]+$", "");
    }
    # gzip or nothing, and one copy of each: gzipped for the clients that take it, plain for
    # the rest (some crawlers and tools), so that no hit pays for a conversion.
    if (req.http.Accept-Encoding ~ "(?i)\bgzip\b") {
        set req.http.Accept-Encoding = "gzip";
        set req.http.X-Varnish-Copy = "gzip";
    } else {
        unset req.http.Accept-Encoding;
        set req.http.X-Varnish-Copy = "plain";
    }
    return (hash);
}

sub vcl_hash {
    hash_data(req.http.X-Varnish-Copy);
    # Falls through to the builtin: the URL and the Host.
}

sub vcl_purge {
    if (req.restarts == 0) {
        return (restart);
    }
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        set req.http.X-Cache = "HIT";
        return (deliver);
    }
    # Past s-maxage. Within stale-while-revalidate, or while masthead is down (stale-if-error):
    # served now, refetched in the background. Otherwise fetched now (once: see vcl_recv).
    if (std.healthy(req.backend_hint) && obj.ttl + std.duration(obj.http.X-Masthead-SWR, 0s) < 0s) {
        set req.http.X-Refetch = "1";
        return (restart);
    }
    set req.http.X-Cache = "STALE";
}

sub vcl_miss {
    set req.http.X-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Cache = "PASS";
}

sub vcl_backend_fetch {
    unset bereq.http.X-Cache;
    unset bereq.http.X-Refetch;
}

sub vcl_backend_response {
    # Only what masthead says is cacheable: a response without Cache-Control (a redirect, an
    # error page) is not held for Varnish's default 2 minutes, where no purge could reach it.
    if (!beresp.http.Cache-Control && !beresp.http.Expires) {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Varnish asks masthead for gzip whatever the client said, and masthead sends text gzipped
    # (compressed once, when it stores the page). Store each copy the way its clients take it
    # (vcl_recv); compress here only what came plain.
    if (bereq.http.X-Varnish-Copy == "plain") {
        if (beresp.http.Content-Encoding == "gzip") {
            set beresp.do_gunzip = true;
        }
    } elsif (!beresp.http.Content-Encoding &&
             beresp.http.Content-Type ~ "^(text/|application/([a-z.+-]*\+)?(xml|json|javascript))") {
        set beresp.do_gzip = true;
    }
    # beresp.grace is stale-while-revalidate (or default_grace); remember it, then keep the
    # object for stale-if-error when that is longer (vcl_hit tells the two apart).
    set beresp.http.X-Masthead-SWR = beresp.grace + "s";
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.http.X-Masthead-SIE = regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s");
        if (std.duration(beresp.http.X-Masthead-SIE, 0s) > beresp.grace) {
            set beresp.grace = std.duration(beresp.http.X-Masthead-SIE, 0s);
        }
        unset beresp.http.X-Masthead-SIE;
    }
    # With a validator, an expired object is kept a while so its refetch can be a 304.
    if (beresp.http.ETag || beresp.http.Last-Modified) {
        set beresp.keep = 1h;
    }
    # Falls through to the builtin: Set-Cookie, private, no-store, no-cache and Vary: * are
    # never cached. beresp.ttl comes from s-maxage (else max-age), beresp.grace from
    # stale-while-revalidate.
}

sub vcl_deliver {
    unset resp.http.X-Masthead-SWR;
    # masthead's own cache status, when this answer came from it just now.
    if (resp.http.X-Cache && req.http.X-Cache != "HIT" && req.http.X-Cache != "STALE") {
        set resp.http.X-Cache-Origin = resp.http.X-Cache;
    }
    set resp.http.X-Cache = req.http.X-Cache;
    if (!req.http.X-Cache) {
        set resp.http.X-Cache = "MISS";
    }
    # Surrogate keys are for bans, not for readers; a purger asking with X-Cache-Debug sees them.
    if (!(req.http.X-Cache-Debug && client.ip ~ purgers)) {
        unset resp.http.Surrogate-Key;
        unset resp.http.Cache-Tag;
    }
}

sub vcl_synth {
    if (req.method == "BAN" || req.method == "PURGE") {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = resp.reason + {"
"};
        return (deliver);
    }
}
