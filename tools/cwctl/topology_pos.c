/*
 * topology_pos.c: the line and column of a field in a JSON text.
 *
 * jansson gives positions for syntax errors only; it does not keep where a value was. So cwctl
 * walks the text itself, after jansson has accepted it (only valid JSON reaches this walker),
 * with a small tokenizer that knows strings (escapes included), numbers, literals, objects and
 * arrays, and keeps the path of the value it is at in the spelling of the error paths
 * ("sets[1].san[0].dns"). That is exact, not a search for a key name: a key is matched only at
 * its place in the tree, and a key spelled with escapes ("na\u006de") is decoded first.
 *
 * Columns count characters (UTF-8 code points), 1-based, as jansson's own error columns do.
 */
#include <string.h>

#include "topology.h"

#define POS_PATH_MAX 1024

typedef struct walker {
    const char *s;
    size_t n;
    size_t i;
    int line;
    int col;            /* column of s[i] */
    const char *target;
    size_t target_len;
    size_t best_len;    /* length of the deepest ancestor (or the target) seen so far */
    int found;
    int best_line;
    int best_col;
    char path[POS_PATH_MAX];
    size_t plen;        /* > POS_PATH_MAX - 1 means "too long to match anything" */
    char shown[CWCTL_SHOWN_CAP]; /* a key as an error path spells it; scratch, not per level */
} walker;

static void step(walker *w)
{
    unsigned char c = (unsigned char)w->s[w->i++];

    if (c == '\n') {
        w->line++;
        w->col = 1;
    } else if ((c & 0xC0u) != 0x80u) {
        w->col++; /* a character starts here; UTF-8 continuation bytes do not count */
    }
}

static void skip_ws(walker *w)
{
    while (w->i < w->n && (w->s[w->i] == ' ' || w->s[w->i] == '\t' || w->s[w->i] == '\n' ||
                           w->s[w->i] == '\r')) {
        step(w);
    }
}

/* Is the current path the target or an ancestor of it? Remembers the deepest. */
static void visit(walker *w, int line, int col)
{
    if (w->plen >= POS_PATH_MAX || w->found) {
        return;
    }
    if (w->plen == w->target_len && memcmp(w->path, w->target, w->plen) == 0) {
        w->found = 1;
    } else if (!(w->plen < w->target_len && memcmp(w->path, w->target, w->plen) == 0 &&
                 (w->plen == 0 || w->target[w->plen] == '.' || w->target[w->plen] == '['))) {
        return;
    }
    if (w->found || w->plen >= w->best_len) {
        w->best_len = w->plen;
        w->best_line = line;
        w->best_col = col;
    }
}

static void path_append(walker *w, const char *s, size_t n)
{
    if (w->plen + n >= POS_PATH_MAX) {
        w->plen = POS_PATH_MAX; /* marks the path as too long; restored on the way back */
        return;
    }
    memcpy(w->path + w->plen, s, n);
    w->plen += n;
    w->path[w->plen] = '\0';
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* Reads a string token; when key is not NULL its decoded text goes there (cut at cap - 1). */
static void read_string(walker *w, char *key, size_t cap, size_t *key_len)
{
    size_t k = 0;

    step(w); /* the opening quote */
    while (w->i < w->n && w->s[w->i] != '"') {
        char c = w->s[w->i];
        if (c == '\\' && w->i + 1 < w->n) {
            char e = w->s[w->i + 1];
            unsigned cp = 0;
            char out[4];
            size_t on = 1;
            step(w);
            step(w);
            switch (e) {
            case 'b':
                out[0] = '\b';
                break;
            case 'f':
                out[0] = '\f';
                break;
            case 'n':
                out[0] = '\n';
                break;
            case 'r':
                out[0] = '\r';
                break;
            case 't':
                out[0] = '\t';
                break;
            case 'u':
                if (w->i + 4 <= w->n && hex4(w->s + w->i, &cp) == 0) {
                    for (int j = 0; j < 4; j++) {
                        step(w);
                    }
                    if (cp >= 0xD800 && cp <= 0xDBFF && w->i + 6 <= w->n && w->s[w->i] == '\\' &&
                        w->s[w->i + 1] == 'u') {
                        unsigned lo;
                        if (hex4(w->s + w->i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            for (int j = 0; j < 6; j++) {
                                step(w);
                            }
                        }
                    }
                }
                if (cp < 0x80) {
                    out[0] = (char)cp;
                } else if (cp < 0x800) {
                    out[0] = (char)(0xC0 | (cp >> 6));
                    out[1] = (char)(0x80 | (cp & 0x3F));
                    on = 2;
                } else if (cp < 0x10000) {
                    out[0] = (char)(0xE0 | (cp >> 12));
                    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    out[2] = (char)(0x80 | (cp & 0x3F));
                    on = 3;
                } else {
                    out[0] = (char)(0xF0 | (cp >> 18));
                    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    out[3] = (char)(0x80 | (cp & 0x3F));
                    on = 4;
                }
                break;
            default: /* \" \\ \/ */
                out[0] = e;
                break;
            }
            for (size_t j = 0; j < on; j++) {
                if (key != NULL && k + 1 < cap) {
                    key[k++] = out[j];
                }
            }
            continue;
        }
        if (key != NULL && k + 1 < cap) {
            key[k++] = c;
        }
        step(w);
    }
    if (w->i < w->n) {
        step(w); /* the closing quote */
    }
    if (key != NULL) {
        key[k] = '\0';
        *key_len = k;
    }
}

static void walk_value(walker *w, int depth);

static void walk_object(walker *w, int depth)
{
    step(w); /* { */
    skip_ws(w);
    while (w->i < w->n && w->s[w->i] != '}') {
        char key[256];
        size_t key_len = 0;
        size_t saved = w->plen;

        if (w->s[w->i] != '"') {
            return; /* not reached for text jansson accepted */
        }
        read_string(w, key, sizeof key, &key_len);
        skip_ws(w);
        if (w->i < w->n && w->s[w->i] == ':') {
            step(w);
        }
        if (saved > 0) {
            path_append(w, ".", 1);
        }
        /* as topology_json.c puts a key into an error's path: a long one shortened (the first
         * bytes of a key cut at sizeof key are the same) */
        cwctl_topo_shown(key, key_len, 0, w->shown);
        path_append(w, w->shown, strlen(w->shown));
        walk_value(w, depth + 1);
        w->plen = saved;
        w->path[saved < POS_PATH_MAX ? saved : POS_PATH_MAX - 1] = '\0';
        skip_ws(w);
        if (w->i < w->n && w->s[w->i] == ',') {
            step(w);
            skip_ws(w);
        }
    }
    if (w->i < w->n) {
        step(w); /* } */
    }
}

static void walk_array(walker *w, int depth)
{
    size_t index = 0;

    step(w); /* [ */
    skip_ws(w);
    while (w->i < w->n && w->s[w->i] != ']') {
        char num[32];
        int len = 0;
        size_t saved = w->plen;
        size_t v = index;
        char digits[24];
        int nd = 0;

        do {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        num[len++] = '[';
        while (nd > 0) {
            num[len++] = digits[--nd];
        }
        num[len++] = ']';
        path_append(w, num, (size_t)len);
        walk_value(w, depth + 1);
        w->plen = saved;
        w->path[saved < POS_PATH_MAX ? saved : POS_PATH_MAX - 1] = '\0';
        index++;
        skip_ws(w);
        if (w->i < w->n && w->s[w->i] == ',') {
            step(w);
            skip_ws(w);
        }
    }
    if (w->i < w->n) {
        step(w); /* ] */
    }
}

static void walk_value(walker *w, int depth)
{
    skip_ws(w);
    if (w->i >= w->n) {
        return;
    }
    visit(w, w->line, w->col);
    if (depth > 512) {
        return; /* jansson's own nesting limit is 2048; the topology never nests beyond 6 */
    }
    switch (w->s[w->i]) {
    case '{':
        walk_object(w, depth);
        break;
    case '[':
        walk_array(w, depth);
        break;
    case '"':
        read_string(w, NULL, 0, NULL);
        break;
    default: /* number, true, false, null */
        while (w->i < w->n && strchr(",]} \t\r\n", w->s[w->i]) == NULL) {
            step(w);
        }
        break;
    }
}

void cwctl_json_locate(const char *text, size_t len, const char *path, int *line, int *column)
{
    static walker w; /* 1.4 KiB of path and scratch: not on the stack */

    memset(&w, 0, sizeof w);
    w.s = text;
    w.n = len;
    w.line = 1;
    w.col = 1;
    w.target = path;
    w.target_len = strlen(path);
    w.best_line = 1;
    w.best_col = 1;
    walk_value(&w, 0);
    *line = w.best_line;
    *column = w.best_col;
}
