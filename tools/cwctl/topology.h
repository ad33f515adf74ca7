/*
 * topology.h: `cwctl topology`, the PC side of the topology blob (docs/topology.md).
 *
 *   topology.c       the subcommands compile / show / derive, files, messages, exit codes
 *   topology_json.c  JSON -> DER (schema checks with field paths) and decoded blob -> JSON
 *   topology_pos.c   finds the line and column of a field in the JSON text
 *
 * Validation is the device's own: the DER that topology_json.c writes is handed to
 * cw_topology_decode() (firmware/src/cw_topology.c, compiled into cwctl), and only a blob the
 * device decoder accepts is written out.
 */
#ifndef CWCTL_TOPOLOGY_H
#define CWCTL_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cw/cw_topology.h"

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

/* Where JSON -> DER conversion stopped: the field path in the spelling the device decoder uses
 * ("sets[1].san[0].dns"), and a message. */
typedef struct cwctl_topo_error_t {
    char path[256];
    char message[512];
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
