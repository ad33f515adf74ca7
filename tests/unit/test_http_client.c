/*
 * test_http_client.c: the HTTP client's checks that come before any traffic, its failures
 * without a network, and the `net`/`http` commands on a board without one. The client's traffic
 * itself is tested against real servers in tests/system/test_net*.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw.h"
#include "cw/base/cw_arena.h"
#include "cw/net/cw_http.h"
#include "cw/codec/cw_url.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "support/test_board.h"

static cw_http_ctx http;
static uint8_t body[256];
static uint8_t big_body[CW_HTTP_REQUEST_BODY_MAX + 1];

static cw_url_t url_of(const char *text)
{
    cw_url_t u;
    assert_int_equal(cw_url_parse(text, strlen(text), &u), CW_OK);
    return u;
}

static size_t sunk;

static cw_err count_sink(const uint8_t *bytes, size_t len, void *arg)
{
    (void)bytes;
    (void)arg;
    sunk += len;
    return CW_OK;
}

/* Polls until the request ends; lwIP's timers run meanwhile (DNS retries). */
static cw_err finish(cw_http_ctx *c)
{
    cw_err e;
    for (int i = 0; i < 1000; i++) {
        e = cw_http_poll(c);
        if (e != CW_ERR_IN_PROGRESS) {
            return e;
        }
        sys_check_timeouts();
    }
    fail_msg("the request did not end");
    return CW_ERR_INTERNAL;
}

static void test_refusals_before_traffic(void **state)
{
    cw_http_request_t req;
    cw_url_t u;
    (void)state;

    cw_http_init(&http, NULL);
    memset(&req, 0, sizeof req);
    u = url_of("https://10.0.2.2/");
    req.url = &u;
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_HTTP_NO_TLS);

    u = url_of("http://10.0.2.2/");
    req.method = CW_HTTP_POST;
    req.body = big_body;
    req.body_len = sizeof big_body;
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_HTTP_REQUEST_TOO_LARGE);

    req.body_len = 3;
    req.content_type = "text/plain\r\nX-Injected: 1";
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_INVALID_ARG);

    req.method = CW_HTTP_GET;
    req.content_type = NULL;
    req.body = NULL;
    req.body_len = 0;
    req.target = "/a\r\nHost: evil";
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_INVALID_ARG);
    req.target = "no-slash";
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_INVALID_ARG);
    req.target = NULL;
    req.url = NULL;
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_http_poll(&http), CW_ERR_INVALID_ARG); /* nothing runs */

    /* a body sink and a buffer: one or the other */
    req.url = &u;
    req.body_sink = count_sink;
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_http_request(&http, &req, NULL, 1), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_http_request(&http, &req, body, 0), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_http_poll(&http), CW_ERR_INVALID_ARG); /* nothing runs */
    test_assert_arena_empty();
}

static void test_no_route_without_a_netif(void **state)
{
    cw_http_request_t req;
    cw_url_t u = url_of("http://10.0.2.2:8080/x");
    (void)state;

    cw_http_init(&http, NULL);
    memset(&req, 0, sizeof req);
    req.url = &u;
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_IN_PROGRESS);
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_BUSY);
    assert_string_equal(cw_err_name(finish(&http)), "LWIP_ERR_RTE");
    uint32_t ev = cw_http_take_events(&http);
    assert_true((ev & CW_HTTP_EV_CONNECTING) != 0);
    assert_true((ev & CW_HTTP_EV_CONNECTED) == 0);
    char peer[32];
    cw_http_peer(&http, peer, sizeof peer);
    assert_string_equal(peer, "10.0.2.2:8080");
    /* the context is idle again and takes the next request */
    assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_IN_PROGRESS);
    cw_http_abort(&http);
    assert_int_equal(cw_http_poll(&http), CW_ERR_INVALID_ARG);
    /* a request whose body goes to a sink runs the same way, and the sink sees nothing */
    req.body_sink = count_sink;
    sunk = 0;
    assert_int_equal(cw_http_request(&http, &req, NULL, 0), CW_ERR_IN_PROGRESS);
    assert_string_equal(cw_err_name(finish(&http)), "LWIP_ERR_RTE");
    assert_int_equal(sunk, 0);
    assert_int_equal(cw_http_response(&http)->body_len, 0);
    test_assert_arena_empty();
}

static void test_name_without_a_dns_server(void **state)
{
    cw_http_request_t req;
    cw_url_t u = url_of("http://ca.example.com/");
    (void)state;

    cw_http_init(&http, NULL);
    memset(&req, 0, sizeof req);
    req.url = &u;
    /* lwIP's resolver refuses at once when no DNS server is set; the lookup slot is given back,
     * so this can repeat more often than there are slots */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cw_http_request(&http, &req, body, sizeof body), CW_ERR_DNS_FAILED);
        assert_int_equal(cw_http_poll(&http), CW_ERR_INVALID_ARG); /* idle again */
    }
    test_assert_arena_empty();
}

static void test_console_without_network(void **state)
{
    (void)state;
    test_uart_reset();
    assert_int_equal(cw_init(NULL), CW_OK);
    test_uart_reset();
    test_uart_feed("net\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "interface: none (unit-test board: no network)\r\n"
                                               "ERR NET_NO_INTERFACE: "));
    test_uart_reset();
    test_uart_feed("http get http://10.0.2.2/\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "\r\nERR NET_NO_INTERFACE: "));
    test_uart_reset();
    test_uart_feed("http get https://10.0.2.2/\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "\r\nERR HTTP_NO_TLS: "));
    test_uart_reset();
    test_uart_feed("http post http://10.0.2.2/ 99999\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "\r\nERR USAGE: "));
    test_uart_reset();
    test_uart_feed("help\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "\r\nnet "));
    assert_non_null(strstr(test_uart_output(), "\r\nhttp get|post [timeout=S] URL..."));
    cw_shutdown();
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_before_traffic),
        cmocka_unit_test(test_no_route_without_a_netif),
        cmocka_unit_test(test_name_without_a_dns_server),
        cmocka_unit_test(test_console_without_network),
    };
    cw_arena_init();
    lwip_init(); /* as the board does; this board adds no netif */
    return cmocka_run_group_tests_name("http client", tests, NULL, NULL);
}
