/*
 * topology.c: `cwctl topology compile|show|derive`, on files of this PC (no device involved).
 *
 *   compile SITE.json -o SITE.der   JSON -> DER, validated by the device's own decoder
 *   show SITE.der [-o SITE.json]    DER -> canonical JSON (2-space indent, fixed key order)
 *   derive SITE.der|SITE.json       every set as the device derives it: subject, SANs, key, CA
 *
 * Messages name the file, and for JSON input the line and column of the field and its path:
 *   site.json:12:9: sets[1].san[0].dns: TOPO_PLACEHOLDER: <sentence> (value "sip.{domian}")
 * on one line, whatever the value: it is shown escaped and, when long, shortened
 * (cwctl_topo_shown()), so the reason is never cut off.
 * Syntax errors come from jansson with its own line and column. For every other error the path
 * comes from the conversion (topology_json.c) or from cw_topology_error_path(), and
 * topology_pos.c finds where that path's value starts in the text; a path whose value is absent
 * (a missing field) points at the object that should hold it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cwctl.h"
#include "topology.h"

/* Largest input file read: a JSON topology with every limit filled is far below 1 MiB; a DER
 * file above CW_TOPO_DER_MAX is read whole and refused by the decoder (TOPO_TOO_LARGE). */
#define TOPO_FILE_MAX (4L * 1024L * 1024L)

static const char topology_usage_text[] =
    "usage: cwctl topology compile SITE.json -o SITE.der\n"
    "       cwctl topology show SITE.der [-o SITE.json]\n"
    "       cwctl topology derive SITE.der|SITE.json\n"
    "\n"
    "Works on files of this PC; no --port. compile checks the JSON exactly as the device\n"
    "checks the blob (the same decoder) and writes DER only when it is valid; show prints a\n"
    "blob as canonical JSON; derive prints what the device derives for every certificate\n"
    "set (subject, SANs, key type, EKU, CA profile). The format: docs/topology.md.\n"
    "\n"
    "exit status: 0 done, 1 the input is not a valid topology (file:line:column: field:\n"
    "message on standard error), 2 usage or I/O error.\n";

/* Reads a whole file into a malloc'd buffer (NUL-terminated for convenience). */
static int read_file(const char *path, char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    size_t cap = 0;

    if (fp == NULL) {
        cwctl_warn("%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *p;
            cap = cap == 0 ? 8192 : cap * 2;
            if (cap > (size_t)TOPO_FILE_MAX + 8192) {
                cwctl_warn("%s: larger than %ld bytes", path, TOPO_FILE_MAX);
                free(buf);
                fclose(fp);
                return -1;
            }
            p = realloc(buf, cap);
            if (p == NULL) {
                cwctl_warn("%s: out of memory", path);
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(fp)) {
        cwctl_warn("%s: %s", path, strerror(errno));
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* Writes data to path through a temporary file in the same directory, renamed at the end: a
 * failed run never leaves a half-written output. path "-" is standard output. */
static int write_file(const char *path, const void *data, size_t len)
{
    char *tmp;
    int fd;
    FILE *fp;

    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            cwctl_warn("standard output: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    tmp = malloc(strlen(path) + 8);
    if (tmp == NULL) {
        cwctl_warn("%s: out of memory", path);
        return -1;
    }
    sprintf(tmp, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        cwctl_warn("%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    (void)fchmod(fd, 0644); /* a blob is not secret; mkstemp's 0600 would surprise */
    fp = fdopen(fd, "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fflush(fp) != 0 || fsync(fd) != 0) {
        cwctl_warn("%s: %s", tmp, strerror(errno));
        if (fp != NULL) {
            fclose(fp);
        } else {
            close(fd);
        }
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        cwctl_warn("%s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* Appends n bytes of s to out at *o, escaped as a JSON string would have them. */
static void shown_escape(const char *s, size_t n, char *out, size_t *o)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e;

        switch (c) {
        case '"':
        case '\\':
            e = (char)c;
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\t':
            e = 't';
            break;
        default:
            e = 0;
            break;
        }
        if (e != 0) {
            out[(*o)++] = '\\';
            out[(*o)++] = e;
        } else if (c < 0x20u || c == 0x7Fu) {
            memcpy(out + *o, "\\u00", 4);
            out[*o + 4] = hex[c >> 4];
            out[*o + 5] = hex[c & 0x0Fu];
            *o += 6;
        } else {
            out[(*o)++] = (char)c;
        }
    }
}

const char *cwctl_topo_shown(const char *s, size_t len, int with_tail, char *out)
{
    size_t head = len; /* bytes shown from the start */
    size_t tail = len; /* where the bytes shown at the end start */
    size_t o = 0;

    if (len > CWCTL_SHOWN_MAX) {
        /* back to the start of the character that does not fit, and on past a cut one */
        head = CWCTL_SHOWN_HEAD;
        while (head > 0 && ((unsigned char)s[head] & 0xC0u) == 0x80u) {
            head--;
        }
        if (with_tail) {
            tail = len - CWCTL_SHOWN_TAIL;
            while (tail < len && ((unsigned char)s[tail] & 0xC0u) == 0x80u) {
                tail++;
            }
        }
    }
    shown_escape(s, head, out, &o);
    if (head < len) {
        memcpy(out + o, "...", 3);
        o += 3;
        shown_escape(s + tail, len - tail, out, &o);
    }
    out[o] = '\0';
    return out;
}

/* The JSON value at a path of the error spelling ("sets[1].san[0].dns"), or NULL. */
static const json_t *json_at(const json_t *v, const char *path)
{
    while (v != NULL && *path != '\0') {
        if (*path == '[') {
            char *end;
            unsigned long i = strtoul(path + 1, &end, 10);
            if (*end != ']') {
                return NULL;
            }
            v = json_array_get(v, i);
            path = end + 1;
        } else {
            char key[256];
            size_t n = 0;
            if (*path == '.') {
                path++;
            }
            while (*path != '\0' && *path != '.' && *path != '[' && n + 1 < sizeof key) {
                key[n++] = *path++;
            }
            key[n] = '\0';
            v = json_object_get(v, key);
        }
    }
    return v;
}

/* file:line:column: path: message */
static void report_at(const char *file, const char *text, size_t len, const char *path,
                      const char *message)
{
    int line;
    int col;

    cwctl_json_locate(text, len, path, &line, &col);
    fprintf(stderr, "%s:%d:%d: %s%s%s\n", file, line, col, path, path[0] != '\0' ? ": " : "",
            message);
}

/* Decoder error text: "NAME: sentence", and the offending string value when there is one (its
 * length too when it is shown shortened: the reason may be that it is too long). */
static void decoder_message(cw_err e, const json_t *value, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s: %s", cw_err_name(e), cw_err_text(e));

    if (n > 0 && (size_t)n < cap && value != NULL && json_is_string(value)) {
        char shown[CWCTL_SHOWN_CAP];
        size_t len = json_string_length(value);

        cwctl_topo_shown(json_string_value(value), len, 1, shown);
        if (len > CWCTL_SHOWN_MAX) {
            snprintf(out + n, cap - (size_t)n, " (value \"%s\", %zu bytes)", shown, len);
        } else {
            snprintf(out + n, cap - (size_t)n, " (value \"%s\")", shown);
        }
    }
}

/* JSON text -> DER in der; the decoded topology in t (referencing der->data). Returns an exit
 * code; messages are printed. */
static int compile_text(const char *file, const char *text, size_t len, cwctl_buf_t *der,
                        cw_topology *t)
{
    json_error_t jerr;
    json_t *root;

    /* A UTF-8 byte order mark (some editors write one) is skipped, as RFC 8259 section 8.1
     * allows; positions are then counted from the first character, as those editors show them. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    cwctl_topo_error_t cerr;
    char message[768]; /* name, a sentence of at most 200 bytes and a shown value */
    cw_err e;

    if (root == NULL) {
        if (jerr.line > 0) {
            fprintf(stderr, "%s:%d:%d: JSON syntax: %s\n", file, jerr.line, jerr.column, jerr.text);
        } else {
            fprintf(stderr, "%s: JSON syntax: %s\n", file, jerr.text);
        }
        return CWCTL_EXIT_ERR;
    }
    if (cwctl_topo_from_json(root, der, &cerr) != 0) {
        report_at(file, text, len, cerr.path, cerr.message);
        json_decref(root);
        return CWCTL_EXIT_ERR;
    }
    e = cw_topology_decode(t, der->data, der->len);
    if (e != CW_OK) {
        const char *path = cw_topology_error_path(t);
        decoder_message(e, json_at(root, path), message, sizeof message);
        report_at(file, text, len, path, message);
        json_decref(root);
        return CWCTL_EXIT_ERR;
    }
    json_decref(root);
    return CWCTL_EXIT_OK;
}

/* Decodes a DER file's bytes; prints "file: path: NAME: sentence" on failure. */
static int decode_der(const char *file, const uint8_t *der, size_t len, cw_topology *t)
{
    cw_err e = cw_topology_decode(t, der, len);
    const char *path;

    if (e == CW_OK) {
        return CWCTL_EXIT_OK;
    }
    path = cw_topology_error_path(t);
    fprintf(stderr, "%s: %s%s%s: %s\n", file, path, path[0] != '\0' ? ": " : "", cw_err_name(e),
            cw_err_text(e));
    return CWCTL_EXIT_ERR;
}

/* Prints a JSON document with 2-space indent and a final newline to path or standard output. */
static int print_json(json_t *doc, const char *path)
{
    char *s = json_dumps(doc, JSON_INDENT(2));
    int rc;
    size_t n;
    char *with_nl;

    if (s == NULL) {
        cwctl_warn("out of memory");
        return CWCTL_EXIT_USAGE;
    }
    n = strlen(s);
    with_nl = realloc(s, n + 2);
    if (with_nl == NULL) {
        free(s);
        cwctl_warn("out of memory");
        return CWCTL_EXIT_USAGE;
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    rc = write_file(path != NULL ? path : "-", with_nl, n + 1) == 0 ? CWCTL_EXIT_OK
                                                                    : CWCTL_EXIT_USAGE;
    free(with_nl);
    return rc;
}

static int looks_like_json(const char *data, size_t len)
{
    size_t i = 0;

    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
        i++;
    }
    return i < len && data[i] == '{';
}

static int usage_error(const char *what, const char *arg)
{
    cwctl_warn("topology: %s%s%s (see cwctl topology --help)", what, arg != NULL ? ": " : "",
               arg != NULL ? arg : "");
    return CWCTL_EXIT_USAGE;
}

int cwctl_topology_is_local(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "topology") != 0) {
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--port") == 0 || strncmp(argv[i], "--port=", 7) == 0) {
            return 0;
        }
    }
    return 1;
}

int cwctl_topology_main(int argc, char **argv)
{
    static cw_topology topo; /* 1-2 KiB; static as on the device */
    const char *verb = NULL;
    const char *in = NULL;
    const char *out = NULL;
    char *data = NULL;
    size_t len = 0;
    cwctl_buf_t der = {0};
    json_t *doc;
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            return fputs(topology_usage_text, stdout) == EOF ? CWCTL_EXIT_USAGE : CWCTL_EXIT_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                return usage_error("option needs a value", a);
            }
            out = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0 && a[9] != '\0') {
            out = a + 9;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option", a);
        } else if (verb == NULL) {
            verb = a;
        } else if (in == NULL) {
            in = a;
        } else {
            return usage_error("unexpected argument", a);
        }
    }
    if (verb == NULL) {
        return usage_error("no subcommand given (compile, show or derive)", NULL);
    }
    if (strcmp(verb, "compile") != 0 && strcmp(verb, "show") != 0 && strcmp(verb, "derive") != 0) {
        if (strcmp(verb, "load") == 0) {
            return usage_error("load is a device command: cwctl --port TTY topology load FILE",
                               NULL);
        }
        return usage_error("unknown subcommand", verb);
    }
    if (in == NULL) {
        return usage_error("no input file given", NULL);
    }
    if (strcmp(verb, "compile") == 0 && out == NULL) {
        return usage_error("compile needs -o FILE (- for standard output)", NULL);
    }
    if (strcmp(verb, "derive") == 0 && out != NULL) {
        return usage_error("derive prints to standard output; it takes no -o", NULL);
    }
    if (read_file(in, &data, &len) != 0) {
        return CWCTL_EXIT_USAGE;
    }

    if (strcmp(verb, "compile") == 0) {
        rc = compile_text(in, data, len, &der, &topo);
        if (rc == CWCTL_EXIT_OK && write_file(out, der.data, der.len) != 0) {
            rc = CWCTL_EXIT_USAGE;
        }
    } else {
        if (strcmp(verb, "derive") == 0 && looks_like_json(data, len)) {
            rc = compile_text(in, data, len, &der, &topo);
        } else {
            rc = decode_der(in, (const uint8_t *)data, len, &topo);
        }
        if (rc == CWCTL_EXIT_OK) {
            cw_err e = CW_OK;
            doc = strcmp(verb, "show") == 0 ? cwctl_topo_to_json(&topo)
                                            : cwctl_topo_derived_json(&topo, &e);
            if (doc == NULL) {
                if (e != CW_OK) {
                    fprintf(stderr, "%s: %s: %s\n", in, cw_err_name(e), cw_err_text(e));
                    rc = CWCTL_EXIT_ERR;
                } else {
                    cwctl_warn("out of memory");
                    rc = CWCTL_EXIT_USAGE;
                }
            } else {
                rc = print_json(doc, out);
                json_decref(doc);
            }
        }
    }
    cwctl_buf_free(&der);
    free(data);
    return rc;
}
