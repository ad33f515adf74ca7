/*
 * topology.h: `cwctl topology`, the PC side of the topology blob (docs/topology.md).
 *
 *   topology.c       the subcommands compile / show / derive, files, messages, exit codes
 *   topology_json.c  JSON -> DER (schema checks with field paths) and decoded blob -> JSON
 *   topology_pos.c   finds the line and column of a field in the JSON text
 *
 * Validation is the device's own: the DER that topology_json.c writes is handed to
 * cw_topology_decode() (firmware/src/codec/cw_topology.c, compiled into cwctl), and only a blob the
 * device decoder accepts is written out.
 */
#ifndef CWCTL_TOPOLOGY_H
#define CWCTL_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cw/codec/cw_topology.h"

/* Is this command line `cwctl topology ...` on local files: "topology" the first word and no
 * --port anywhere (with --port, `topology load|show` are console commands of the device)? */
int cwctl_topology_is_local(int argc, char **argv);

/* Runs `cwctl topology ...`; argv[0] is "topology". Returns a CWCTL_EXIT_ code:
 * 0 done, 1 the input is not a valid topology (message on stderr), 2 usage or I/O error. */
int cwctl_topology_main(int argc, char **argv);

/* A growable byte buffer (cwctl may allocate; the device never does). */
typedef struct cwctl_buf_t {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed;  /* an allocation failed: the content is incomplete */
} cwctl_buf_t;

void cwctl_buf_free(cwctl_buf_t *b);

/* How an error message shows a string from the JSON (a value, or a key in a field path), so that
 * what follows it (the reason) is never cut off and the message stays on one line: '"', '\\' and
 * control characters as JSON escapes; a value longer than CWCTL_SHOWN_MAX bytes as its first
 * CWCTL_SHOWN_HEAD bytes, "..." and its last CWCTL_SHOWN_TAIL bytes (a DNS name's domain is worth
 * seeing); a longer key as its first CWCTL_SHOWN_HEAD bytes and "...". Cuts fall between UTF-8
 * characters. Every key the format knows is far shorter. */
#define CWCTL_SHOWN_MAX 64u
#define CWCTL_SHOWN_HEAD 40u
#define CWCTL_SHOWN_TAIL 20u
/* Room for the shown text: at most CWCTL_SHOWN_MAX bytes escaped, each as "\u00XX" at worst, "..."
 * and the NUL. */
#define CWCTL_SHOWN_CAP (6u * CWCTL_SHOWN_MAX + 4u)

/* Writes s (len bytes, UTF-8) as shown in an error message into out (CWCTL_SHOWN_CAP bytes,
 * NUL-terminated), without quotes; with_tail for a value, 0 for a key. Returns out. */
const char *cwctl_topo_shown(const char *s, size_t len, int with_tail, char *out);

/* Longest field path and message of a conversion error: "sets[255].san[255]." and one shown key
 * fit the path; a sentence of cwctl's own and one shown value fit the message. */
#define CWCTL_TOPO_PATH_MAX 512u
#define CWCTL_TOPO_MESSAGE_MAX 512u

/* Where JSON -> DER conversion stopped: the field path in the spelling the device decoder uses
 * ("sets[1].san[0].dns", a key the format does not know as cwctl_topo_shown() writes it), and a
 * message. */
typedef struct cwctl_topo_error_t {
    char path[CWCTL_TOPO_PATH_MAX];
    char message[CWCTL_TOPO_MESSAGE_MAX];
} cwctl_topo_error_t;

/* Encodes the JSON document root as topology DER into out (appended). Checks the JSON shape:
 * types, required and unknown fields, names of enumerations, address and hex syntax; everything
 * else is left to cw_topology_decode(). Returns 0, or -1 with *err filled in. */
int cwctl_topo_from_json(const json_t *root, cwctl_buf_t *out, cwctl_topo_error_t *err);

/* The canonical JSON of a decoded topology (docs/topology.md, "Canonical JSON"); NULL when out
 * of memory. */
json_t *cwctl_topo_to_json(const cw_topology *t);

/* The derived view of every set (what the device's `topology show` prints); NULL when out of
 * memory. *err gets a derivation error (none for a decoded topology). */
json_t *cwctl_topo_derived_json(const cw_topology *t, cw_err *err);

/* Position (1-based line and column, columns counted in characters as jansson counts them) of
 * the value at path in the JSON text; a path that does not exist in the text gives the position
 * of its deepest existing ancestor (the whole document: 1:1). */
void cwctl_json_locate(const char *text, size_t len, const char *path, int *line, int *column);

#endif /* CWCTL_TOPOLOGY_H */
