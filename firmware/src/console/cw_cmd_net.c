/*
 * cw_cmd_net.c: `net` and the `http get` / `http post` diagnostics (docs/console.md, docs/network.md).
 *
 * `http get` keeps no body: the client streams it through a sink that counts it and hashes it
 * (SHA-256), so a body of any size proves the path. `http post` keeps its response in a bounded
 * buffer, as SCEP's transfers do.
 *
 * `http` is an asynchronous command: it starts the first request, registers a continuation (so
 * that Ctrl-C, or cwctl giving up, cancels it) and returns CW_ERR_IN_PROGRESS; cw_cmd_net_poll() then
 * prints a progress line for each step the client reports and ends the command with
 * cw_console_finish().
 */
#include "cw/console/cw_cmd.h"

#define CW_SAY_FILE cw_cmd_net /* cw_console_say's rows (cw_console.h) */
#include "cw/core/cw_scratch.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_hex.h"
#include "cw/net/cw_http.h"
#include "cw/codec/cw_url.h"
#include "hal_clock.h"
#include "hal_net.h"
#include "mbedtls/sha256.h"

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/prot/dhcp.h"
#include "lwip/stats.h"

/* ---- net ------------------------------------------------------------------------------------- */

static void addr_text(const ip4_addr_t *a, char *out, size_t cap)
{
    if (a == NULL || ip4_addr_isany(a)) {
        (void)snprintf(out, cap, "none");
    } else if (ip4addr_ntoa_r(a, out, (int)cap) == NULL) {
        (void)snprintf(out, cap, "?");
    }
}

static unsigned prefix_len(const ip4_addr_t *mask)
{
    uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
    unsigned n = 0;
    while (n < 32u && (m & (0x80000000UL >> n)) != 0) {
        n++;
    }
    return n;
}

static const char *dhcp_state_name(uint8_t s)
{
    switch (s) {
    case DHCP_STATE_OFF: return "off";
    case DHCP_STATE_REQUESTING: return "requesting";
    case DHCP_STATE_INIT: return "starting";
    case DHCP_STATE_REBOOTING: return "rebooting";
    case DHCP_STATE_REBINDING: return "rebinding";
    case DHCP_STATE_RENEWING: return "renewing";
    case DHCP_STATE_SELECTING: return "selecting (waiting for an offer)";
    case DHCP_STATE_INFORMING: return "informing";
    case DHCP_STATE_CHECKING: return "checking the address";
    case DHCP_STATE_BOUND: return "bound";
    case DHCP_STATE_BACKING_OFF: return "backing off (declined address)";
    default: return "unknown";
    }
}

static bool using_dhcp(struct netif *n)
{
    const struct dhcp *d = netif_dhcp_data(n);
    return d != NULL && d->state != DHCP_STATE_OFF;
}

static void print_pool_use(cw_console_ctx *con)
{
    const struct stats_mem *pcb = lwip_stats.memp[MEMP_TCP_PCB];
    const struct stats_mem *pool = lwip_stats.memp[MEMP_PBUF_POOL];
    const struct stats_mem *heap = &lwip_stats.mem;

    cw_console_say(con, "pools: TCP_PCB %lu of %lu in use (high %lu), PBUF_POOL %lu of %lu (high %lu), "
                   "heap %lu of %lu bytes (high %lu); mem lists every pool",
                   (unsigned long)pcb->used, (unsigned long)pcb->avail, (unsigned long)pcb->max,
                   (unsigned long)pool->used, (unsigned long)pool->avail, (unsigned long)pool->max,
                   (unsigned long)heap->used, (unsigned long)heap->avail, (unsigned long)heap->max);
}

static cw_err cmd_net(cw_console_ctx *con, int argc, char **argv)
{
    struct netif *n = hal_net_netif();
    char a[IP4ADDR_STRLEN_MAX];
    char servers[2 * IP4ADDR_STRLEN_MAX * DNS_MAX_SERVERS] = "";

    (void)argc;
    (void)argv;
    if (n == NULL) {
        cw_console_say(con, "interface: none (%s)", hal_net_describe());
        return CW_ERR_NET_NO_INTERFACE;
    }
    cw_console_say(con, "interface: %c%c%u (%s)", n->name[0], n->name[1], (unsigned)n->num, hal_net_describe());
    if (n->hwaddr_len == 6) {
        cw_console_say(con, "mac: %02x:%02x:%02x:%02x:%02x:%02x", n->hwaddr[0], n->hwaddr[1], n->hwaddr[2],
                       n->hwaddr[3], n->hwaddr[4], n->hwaddr[5]);
    }
    cw_console_say(con, "link: %s, interface %s, mtu %u", netif_is_link_up(n) ? "up" : "down",
                   netif_is_up(n) ? "up" : "down", (unsigned)n->mtu);
    addr_text(netif_ip4_addr(n), a, sizeof a);
    if (ip4_addr_isany(netif_ip4_addr(n))) {
        cw_console_say(con, "address: none yet (%s)", using_dhcp(n) ? "DHCP" : "static");
    } else {
        cw_console_say(con, "address: %s/%u (%s)", a, prefix_len(netif_ip4_netmask(n)),
                       using_dhcp(n) ? "DHCP" : "static");
    }
    addr_text(netif_ip4_gw(n), a, sizeof a);
    cw_console_say(con, "gateway: %s", a);
    for (u8_t i = 0; i < DNS_MAX_SERVERS; i++) {
        const ip_addr_t *s = dns_getserver(i);
        if (s != NULL && !ip_addr_isany(s)) {
            size_t len = strlen(servers);
            (void)snprintf(servers + len, sizeof servers - len, "%s%s", len > 0 ? ", " : "",
                           ipaddr_ntoa_r(s, a, (int)sizeof a) != NULL ? a : "?");
        }
    }
    cw_console_say(con, "dns: %s", servers[0] != '\0' ? servers : "none");
    if (using_dhcp(n)) {
        const struct dhcp *d = netif_dhcp_data(n);
        if (d->state == DHCP_STATE_BOUND) {
            addr_text(ip_2_ip4(&d->server_ip_addr), a, sizeof a);
            cw_console_say(con, "dhcp: bound (server %s, lease %lu s)", a, (unsigned long)d->offered_t0_lease);
        } else {
            cw_console_say(con, "dhcp: %s", dhcp_state_name(d->state));
        }
    } else {
        cw_console_say(con, "dhcp: off (static address)");
    }
    print_pool_use(con);
    return CW_OK;
}

/* ---- http get / http post ------------------------------------------------------------------ */

/* `http post` sends this many bytes at most: the first half of the diagnostic's buffer holds the
 * request body, the rest takes the response. */
#define DIAG_POST_MAX (CW_NET_DIAG_BODY_MAX / 2u < CW_HTTP_REQUEST_BODY_MAX ? CW_NET_DIAG_BODY_MAX / 2u \
                                                                             : CW_HTTP_REQUEST_BODY_MAX)
#define DIAG_TIMEOUT_MAX_S 600ul

typedef struct diag_t {
    cw_console_ctx *con;
    bool running;
    bool post;
    bool waiting_net;
    uint32_t t_wait;
    uint32_t connect_timeout_ms;
    size_t post_len;
    size_t nurls;
    size_t next;
    unsigned connections;
} diag_t;

/* The flags stay here: they are read when no diagnostic runs, and the scratch is then
 * another command's. */
static diag_t diag;
/* The HTTP client, a GET's body hash, a POST's body and response, the URL words and the URL
 * being fetched are the command's part B of the scratch (cw_cmd_net_ctx), claimed when the command
 * starts and released when it ends. */
static cw_cmd_net_ctx *nx;
#define diag_http (&nx->http)
#define diag_sha (&nx->sha)
#define diag_body (nx->body)
#define diag_urls (nx->urls)
#define diag_url_now (&nx->url)
#define DIAG_BODY_CAP (sizeof nx->body)

static void release_nx(void)
{
    if (nx != NULL) {
        cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_CONSOLE);
        nx = NULL;
    }
}

static bool net_ready(void)
{
    struct netif *n = hal_net_netif();
    return n != NULL && netif_is_up(n) && netif_is_link_up(n) && !ip4_addr_isany(netif_ip4_addr(n));
}

static const char *diag_url(size_t i)
{
    const char *p = diag_urls;
    while (i-- > 0) {
        p += strlen(p) + 1;
    }
    return p;
}

/* `http post`'s body: a pattern the test server can check ("abc...z" repeated). */
static void fill_pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)('a' + i % 26u);
    }
}

/* `http get`'s body sink: hashes the bytes going past; the client keeps none of them. */
static cw_err hash_body(const uint8_t *bytes, size_t len, void *arg)
{
    return CW_ERR_FROM_MBEDTLS(mbedtls_sha256_update((mbedtls_sha256_context *)arg, bytes, len));
}

static cw_err start_next(void)
{
    const char *text = diag_url(diag.next);
    cw_http_request_t req;
    cw_err e;

    e = cw_url_parse(text, strlen(text), diag_url_now);
    if (e != CW_OK) {
        return e;
    }
    if (!net_ready()) {
        if (!diag.waiting_net) {
            diag.waiting_net = true;
            diag.t_wait = hal_clock_ms();
            cw_console_say(diag.con, "waiting for the network (link up and an address)");
        }
        return CW_ERR_IN_PROGRESS;
    }
    diag.waiting_net = false;
    memset(&req, 0, sizeof req);
    req.url = diag_url_now;
    cw_console_say(diag.con, "%s %s", diag.post ? "POST" : "GET", text);
    if (diag.post) {
        req.method = CW_HTTP_POST;
        req.content_type = "application/octet-stream";
        req.body = diag_body;
        req.body_len = diag.post_len;
        fill_pattern(diag_body, diag.post_len);
        return cw_http_request(diag_http, &req, diag_body + diag.post_len,
                               DIAG_BODY_CAP - diag.post_len);
    }
    req.method = CW_HTTP_GET;
    req.body_sink = hash_body;
    req.body_sink_arg = diag_sha;
    mbedtls_sha256_init(diag_sha);
    (void)mbedtls_sha256_starts(diag_sha, 0); /* fails only in an alternative implementation */
    return cw_http_request(diag_http, &req, NULL, 0);
}

static void end_diag(cw_err result)
{
    /* The diagnostic is over: a kept-alive connection is closed (with FIN after a good exchange;
     * the client has already reset it after an error). */
    if (result == CW_OK) {
        cw_http_close(diag_http);
    }
    cw_http_abort(diag_http);
    diag.running = false;
    release_nx();
    cw_console_finish(diag.con, result);
}

/* Ctrl-C (line == NULL) cancels; other lines typed meanwhile are ignored. */
static cw_err diag_line(cw_console_ctx *con, char *line, void *arg)
{
    (void)con;
    (void)arg;
    if (line == NULL) {
        cw_http_abort(diag_http);
        diag.running = false;
        release_nx();
        return CW_ERR_CANCELLED;
    }
    return CW_ERR_IN_PROGRESS;
}

static void print_headers(void)
{
    const cw_http_response_t *r = cw_http_response(diag_http);

    cw_console_say(diag.con, "status %u %s", (unsigned)r->status, r->reason);
    if (r->interim > 0) {
        cw_console_say(diag.con, "interim responses skipped: %u", (unsigned)r->interim);
    }
    cw_console_say(diag.con, "content-type: %s", r->content_type[0] != '\0' ? r->content_type : "(none)");
    switch (r->framing) {
    case CW_HTTP_FRAMING_LENGTH:
        cw_console_say(diag.con, "content-length: %lu", (unsigned long)r->content_length);
        break;
    case CW_HTTP_FRAMING_CHUNKED:
        cw_console_say(diag.con, "transfer-encoding: chunked");
        break;
    case CW_HTTP_FRAMING_CLOSE:
        cw_console_say(diag.con, "body delimited by: connection close");
        break;
    case CW_HTTP_FRAMING_NONE:
        cw_console_say(diag.con, "body: none for this status");
        break;
    }
    cw_console_say(diag.con, "connection: %s", r->keep_alive ? "keep-alive" : "close");
}

static void print_events(uint32_t ev)
{
    char peer[32];

    if (ev & CW_HTTP_EV_RESOLVING) {
        cw_console_say(diag.con, "resolving %s", diag_url_now->host);
    }
    if (ev & CW_HTTP_EV_RETRY) {
        cw_console_say(diag.con, "the server closed the kept-alive connection; sending again on a new one");
    }
    cw_http_peer(diag_http, peer, sizeof peer);
    if (ev & CW_HTTP_EV_CONNECTING) {
        diag.connections++;
        cw_console_say(diag.con, "connecting to %s", peer);
    }
    if (ev & CW_HTTP_EV_REUSED) {
        cw_console_say(diag.con, "reusing the connection to %s", peer);
    }
    if (ev & CW_HTTP_EV_CONNECTED) {
        cw_http_timing_t t;
        cw_http_timing(diag_http, &t);
        cw_console_say(diag.con, "connected in %lu ms", (unsigned long)t.connect_ms);
    }
    if (ev & CW_HTTP_EV_SENT) {
        cw_console_say(diag.con, "sent request (%lu bytes)", (unsigned long)cw_http_request_size(diag_http));
    }
    if (ev & CW_HTTP_EV_HEADERS) {
        print_headers();
    }
}

/* The body line of a complete response: its size, and for a GET the hash of what streamed past. */
static void print_body(size_t len)
{
    uint8_t digest[32];
    char hex[2 * sizeof digest + 1];

    if (diag.post) {
        cw_console_say(diag.con, "body: %lu bytes", (unsigned long)len);
        return;
    }
    (void)mbedtls_sha256_finish(diag_sha, digest);
    cw_hex_encode(digest, sizeof digest, hex, false);
    cw_console_say(diag.con, "body: %lu bytes, SHA-256 %s", (unsigned long)len, hex);
}

static void print_result(cw_err e)
{
    const cw_http_response_t *r = cw_http_response(diag_http);
    cw_http_timing_t t;

    cw_http_timing(diag_http, &t);
    if (e == CW_OK) {
        print_body(r->body_len);
        cw_console_say(diag.con, "time: connect %lu ms, first byte %lu ms, total %lu ms", (unsigned long)t.connect_ms,
                       (unsigned long)t.first_byte_ms, (unsigned long)t.total_ms);
    } else {
        if (r->status != 0) {
            cw_console_say(diag.con, "body: %lu bytes before the error", (unsigned long)r->body_len);
        }
        cw_console_say(diag.con, "failed after %lu ms", (unsigned long)t.total_ms);
    }
}

CW_NOINLINE void cw_cmd_net_poll(void)
{
    cw_err e;

    if (!diag.running) {
        return;
    }
    if (diag.waiting_net) {
        if (net_ready()) {
            e = start_next();
            if (e != CW_ERR_IN_PROGRESS) {
                end_diag(e);
            }
        } else if (hal_clock_ms() - diag.t_wait >= diag.connect_timeout_ms) {
            end_diag(CW_ERR_NET_DOWN);
        }
        return;
    }
    e = cw_http_poll(diag_http);
    print_events(cw_http_take_events(diag_http));
    if (e == CW_ERR_IN_PROGRESS) {
        return;
    }
    print_result(e);
    if (e == CW_OK) {
        uint16_t status = cw_http_response(diag_http)->status;
        if (status < 200u || status > 299u) {
            e = CW_ERR_HTTP_STATUS;
        }
    }
    if (e != CW_OK) {
        end_diag(e);
        return;
    }
    if (++diag.next < diag.nurls) {
        e = start_next();
        if (e != CW_ERR_IN_PROGRESS) {
            end_diag(e);
        }
        return;
    }
    cw_console_say(diag.con, "requests: %lu on %u connection%s", (unsigned long)diag.nurls, diag.connections,
                   diag.connections == 1 ? "" : "s");
    end_diag(CW_OK);
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (max - (unsigned long)(*s - '0')) / 10ul) {
            return false;
        }
        v = v * 10ul + (unsigned long)(*s - '0');
    }
    *out = v;
    return true;
}

/* http get [timeout=SECONDS] URL [URL...]  |  http post [timeout=SECONDS] URL LENGTH */
static cw_err cmd_http(cw_console_ctx *con, int argc, char **argv)
{
    cw_http_config_t cfg;
    unsigned long seconds = 0;
    unsigned long len = 0;
    bool post;
    int first;
    int nurls;
    size_t used = 0;
    cw_err e;

    if (argc < 3) {
        return CW_ERR_USAGE;
    }
    if (strcmp(argv[1], "get") == 0) {
        post = false;
    } else if (strcmp(argv[1], "post") == 0) {
        post = true;
    } else {
        return CW_ERR_USAGE;
    }
    first = 2;
    if (strncmp(argv[first], "timeout=", 8) == 0) {
        /* a word, not a "-t" option: cwctl would take a leading '-' for one of its own */
        if (argc < first + 2 || !parse_ulong(argv[first] + 8, DIAG_TIMEOUT_MAX_S, &seconds) || seconds == 0) {
            return CW_ERR_USAGE;
        }
        first += 1;
    }
    nurls = argc - first;
    if (post) {
        if (nurls != 2 || !parse_ulong(argv[argc - 1], (unsigned long)CW_NET_DIAG_BODY_MAX, &len)) {
            return CW_ERR_USAGE;
        }
        if (len > DIAG_POST_MAX) {
            return CW_ERR_HTTP_REQUEST_TOO_LARGE;
        }
        nurls = 1;
    }
    nx = cw_scratch_claim(CW_SCRATCH_B, CW_SCRATCH_CONSOLE);
    if (nx == NULL) {
        return CW_ERR_BUSY;
    }
    for (int i = first; i < first + nurls; i++) {
        e = cw_url_parse(argv[i], strlen(argv[i]), diag_url_now); /* every URL is checked up front */
        if (e == CW_OK && diag_url_now->scheme == CW_URL_HTTPS) {
            e = CW_ERR_HTTP_NO_TLS;
        }
        if (e != CW_OK) {
            release_nx();
            return e;
        }
    }
    if (hal_net_netif() == NULL) {
        release_nx();
        return CW_ERR_NET_NO_INTERFACE;
    }

    memset(&cfg, 0, sizeof cfg);
    cfg.connect_timeout_ms = (uint32_t)(seconds * 1000ul);
    cfg.idle_timeout_ms = (uint32_t)(seconds * 1000ul);
    cw_http_init(diag_http, &cfg);
    memset(&diag, 0, sizeof diag);
    for (int i = first; i < first + nurls; i++) {
        size_t n = strlen(argv[i]) + 1;
        memcpy(diag_urls + used, argv[i], n); /* the words all came from one console line */
        used += n;
    }
    diag.con = con;
    diag.post = post;
    diag.post_len = (size_t)len;
    diag.nurls = (size_t)nurls;
    diag.connect_timeout_ms = seconds > 0 ? (uint32_t)(seconds * 1000ul) : CW_HTTP_CONNECT_TIMEOUT_MS;
    diag.running = true;
    e = start_next();
    if (e != CW_ERR_IN_PROGRESS) {
        cw_http_abort(diag_http);
        diag.running = false;
        release_nx();
        return e;
    }
    cw_console_expect(con, NULL, false, diag_line, NULL);
    return CW_ERR_IN_PROGRESS;
}

static const cw_cmd_t net_cmds[] = {
    {"net", "", CW_CMD_HELP("network interface, address, gateway, DNS, link, DHCP, pool use"), cmd_net},
    {"http", "get|post [timeout=S] URL...", CW_CMD_HELP("fetch URLs (post: URL LENGTH); status, headers, timing"),
     cmd_http},
};

const cw_cmd_group_t cw_cmd_net = {net_cmds, sizeof net_cmds / sizeof net_cmds[0]};
