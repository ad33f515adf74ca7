/*
 * host_net_opts.c: the host board's network options (--net, --ip, --gateway, --dns), read with
 * libc's strict inet_pton (kept apart from host_net.c: lwIP's and libc's byte-order macros clash).
 */
#include "host_board.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_net_parse_net(const char *arg, host_net_opts_t *o)
{
    if (strcmp(arg, "slirp") == 0) {
        o->kind = HOST_NET_SLIRP;
    } else if (strcmp(arg, "none") == 0) {
        o->kind = HOST_NET_NONE;
    } else if (strncmp(arg, "tap:", 4) == 0 && arg[4] != '\0' && strlen(arg + 4) <= HOST_NET_IFNAME_MAX) {
        o->kind = HOST_NET_TAP;
        strcpy(o->tap_ifname, arg + 4);
    } else {
        fprintf(stderr, "certwiz: --net takes slirp, tap:IFNAME (at most %d characters) or none, not '%s'\n",
                HOST_NET_IFNAME_MAX, arg);
        return -1;
    }
    return 0;
}

int host_net_parse_addr(const char *opt, const char *arg, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, arg, &a) != 1) {
        fprintf(stderr, "certwiz: %s takes an IPv4 address A.B.C.D, not '%s'\n", opt, arg);
        return -1;
    }
    *out = a.s_addr;
    return 0;
}

int host_net_parse_ip(const char *arg, host_net_opts_t *o)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(arg, '/');
    char *end;
    unsigned long bits;

    if (slash == NULL || (size_t)(slash - arg) >= sizeof addr) {
        fprintf(stderr, "certwiz: --ip takes A.B.C.D/NN, not '%s'\n", arg);
        return -1;
    }
    memcpy(addr, arg, (size_t)(slash - arg));
    addr[slash - arg] = '\0';
    bits = strtoul(slash + 1, &end, 10);
    if (slash[1] == '\0' || *end != '\0' || bits < 1 || bits > 30) {
        fprintf(stderr, "certwiz: --ip needs a prefix length from 1 to 30, not '%s'\n", slash + 1);
        return -1;
    }
    if (host_net_parse_addr("--ip", addr, &o->ip) < 0) {
        return -1;
    }
    o->mask = htonl((uint32_t)(0xFFFFFFFFUL << (32u - bits)));
    o->is_static = true;
    return 0;
}
