/*
 * wizard.c: cwctl's forms of the wizard commands (request, csr, import, ca import, topology
 * load), turned into console commands and pastes (docs/console.md).
 *
 * A file to paste may be PEM (sent as it is) or DER, which is armoured here: a PKCS#7
 * ContentInfo (the signedData OID near its start) as "PKCS7", anything else as "CERTIFICATE",
 * or for topology load "CERTWIZ TOPOLOGY".
 */
#include "cwctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest file cwctl pastes; the device refuses far smaller pastes by name, but a bigger file is
 * still sent so that the operator sees the device's own answer. */
#define CWCTL_PASTE_FILE_MAX (4L * 1024L * 1024L)

static char cwctl_tmp_path[64];
static char *cwctl_words[8];

/* 1.2.840.113549.1.7.2 (signedData) as DER: 06 09 2A 86 48 86 F7 0D 01 07 02 */
static const unsigned char cwctl_oid_signed_data[] = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};

static int cwctl_is_pem(const unsigned char *d, size_t n)
{
    static const char begin[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof begin - 1 <= n; i++) {
        if (memcmp(d + i, begin, sizeof begin - 1) == 0) {
            return 1;
        }
    }
    return 0;
}

static int cwctl_is_pkcs7(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i + sizeof cwctl_oid_signed_data <= n && i < 24; i++) {
        if (memcmp(d + i, cwctl_oid_signed_data, sizeof cwctl_oid_signed_data) == 0) {
            return 1;
        }
    }
    return 0;
}

static int cwctl_write_b64(FILE *f, const unsigned char *d, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long g = (unsigned long)d[i] << 16;
        size_t left = n - i;
        char q[4];
        if (left > 1) {
            g |= (unsigned long)d[i + 1] << 8;
        }
        if (left > 2) {
            g |= d[i + 2];
        }
        q[0] = a[(g >> 18) & 63u];
        q[1] = a[(g >> 12) & 63u];
        q[2] = left > 1 ? a[(g >> 6) & 63u] : '=';
        q[3] = left > 2 ? a[g & 63u] : '=';
        if (fwrite(q, 1, 4, f) != 4) {
            return -1;
        }
        col += 4;
        if (col == 64 && fputc('\n', f) == EOF) {
            return -1;
        }
        col %= 64;
    }
    return (col != 0 && fputc('\n', f) == EOF) ? -1 : 0;
}

/* Points opts->input_file at path, or at an armoured copy of it when it is DER. */
static int cwctl_paste_file(cwctl_opts_t *opts, const char *path, const char *label_if_der)
{
    FILE *in = fopen(path, "rb");
    unsigned char *d;
    long size;
    int fd;
    FILE *out;
    const char *label;

    if (in == NULL) {
        cwctl_warn("%s: %s", path, strerror(errno));
        return CWCTL_EXIT_USAGE;
    }
    if (fseek(in, 0, SEEK_END) != 0 || (size = ftell(in)) < 0 || fseek(in, 0, SEEK_SET) != 0) {
        cwctl_warn("%s: %s", path, strerror(errno));
        fclose(in);
        return CWCTL_EXIT_USAGE;
    }
    if (size == 0 || size > CWCTL_PASTE_FILE_MAX) {
        cwctl_warn("%s: %s", path, size == 0 ? "the file is empty" : "the file is larger than 4 MiB");
        fclose(in);
        return CWCTL_EXIT_USAGE;
    }
    d = malloc((size_t)size);
    if (d == NULL || fread(d, 1, (size_t)size, in) != (size_t)size) {
        cwctl_warn("%s: cannot read it", path);
        free(d);
        fclose(in);
        return CWCTL_EXIT_USAGE;
    }
    fclose(in);
    opts->input_file = path;
    opts->paste_all = 1;
    if (cwctl_is_pem(d, (size_t)size)) {
        free(d);
        return -1;
    }
    label = label_if_der != NULL ? label_if_der : cwctl_is_pkcs7(d, (size_t)size) ? "PKCS7" : "CERTIFICATE";
    strcpy(cwctl_tmp_path, "/tmp/cwctl-paste-XXXXXX");
    fd = mkstemp(cwctl_tmp_path);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL || fprintf(out, "-----BEGIN %s-----\n", label) < 0 || cwctl_write_b64(out, d, (size_t)size) != 0 ||
        fprintf(out, "-----END %s-----\n", label) < 0 || fclose(out) != 0) {
        cwctl_warn("cannot write a temporary file: %s", strerror(errno));
        free(d);
        cwctl_wizard_cleanup();
        return CWCTL_EXIT_USAGE;
    }
    free(d);
    opts->input_file = cwctl_tmp_path;
    return -1;
}

static int cwctl_need(const char *what, const char *value, const char *form)
{
    if (value == NULL) {
        cwctl_warn("%s needs %s (usage: cwctl --port TTY %s)", form, what, form);
        return 0;
    }
    return 1;
}

int cwctl_wizard_prepare(cwctl_opts_t *opts)
{
    const char *cmd = opts->words[0];
    size_t n = opts->word_count;

    if (strcmp(cmd, "request") == 0 && opts->online) {
        if (n != 1 || opts->offline || (opts->set_name == NULL) == !opts->all_sets) {
            cwctl_warn("usage: cwctl --port TTY [--challenge-file F] request --set SET|--all --online");
            return CWCTL_EXIT_USAGE;
        }
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = opts->all_sets ? "all" : (char *)(uintptr_t)opts->set_name;
        cwctl_words[2] = "online";
        opts->words = cwctl_words;
        opts->word_count = 3;
        return -1;
    }
    if (strcmp(cmd, "renew") == 0 && opts->set_name != NULL) {
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = (char *)(uintptr_t)opts->set_name;
        opts->words = cwctl_words;
        opts->word_count = 2;
        return -1;
    }
    if (strcmp(cmd, "ca") == 0 && opts->profile_name != NULL && n == 2 &&
        (strcmp(opts->words[1], "auth") == 0 || strcmp(opts->words[1], "show") == 0 ||
         strcmp(opts->words[1], "forget") == 0)) {
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = opts->words[1];
        cwctl_words[2] = (char *)(uintptr_t)opts->profile_name;
        opts->words = cwctl_words;
        opts->word_count = 3;
        return -1;
    }
    if (strcmp(cmd, "request") == 0 && opts->set_name != NULL) {
        if (n != 1 || !opts->offline) {
            cwctl_warn("usage: cwctl --port TTY request --set SET --offline [-o SET.csr]");
            return CWCTL_EXIT_USAGE;
        }
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = (char *)(uintptr_t)opts->set_name;
        cwctl_words[2] = "offline";
        opts->words = cwctl_words;
        opts->word_count = 3;
        opts->pem_only = opts->output_file != NULL;
        return -1;
    }
    if (strcmp(cmd, "csr") == 0 && opts->set_name != NULL) {
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = (char *)(uintptr_t)opts->set_name;
        opts->words = cwctl_words;
        opts->word_count = 2;
        opts->pem_only = opts->output_file != NULL;
        return -1;
    }
    if (strcmp(cmd, "import") == 0 && opts->set_name != NULL) {
        if (!cwctl_need("a FILE", n == 2 ? opts->words[1] : NULL, "import --set SET FILE")) {
            return CWCTL_EXIT_USAGE;
        }
        int rc = cwctl_paste_file(opts, opts->words[1], NULL);
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = (char *)(uintptr_t)opts->set_name;
        opts->words = cwctl_words;
        opts->word_count = 2;
        opts->paste_quit = 1;
        return rc;
    }
    if (strcmp(cmd, "ca") == 0 && opts->profile_name != NULL) {
        if (n != 3 || strcmp(opts->words[1], "import") != 0) {
            cwctl_warn("usage: cwctl --port TTY ca import --profile PROFILE FILE [--yes] | "
                       "ca auth|show|forget --profile PROFILE [--yes]");
            return CWCTL_EXIT_USAGE;
        }
        int rc = cwctl_paste_file(opts, opts->words[2], NULL);
        cwctl_words[0] = opts->words[0];
        cwctl_words[1] = opts->words[1];
        cwctl_words[2] = (char *)(uintptr_t)opts->profile_name;
        opts->words = cwctl_words;
        opts->word_count = 3;
        opts->paste_quit = 1;
        return rc;
    }
    if (strcmp(cmd, "topology") == 0 && n == 3 && strcmp(opts->words[1], "load") == 0) {
        /* one block; the device ends the paste at its END line, so no quit follows */
        int rc = cwctl_paste_file(opts, opts->words[2], "CERTWIZ TOPOLOGY");
        opts->word_count = 2;
        return rc;
    }
    return -1;
}

void cwctl_wizard_cleanup(void)
{
    if (cwctl_tmp_path[0] != '\0') {
        (void)unlink(cwctl_tmp_path);
        cwctl_tmp_path[0] = '\0';
    }
}
