/*
 * fuzz_pem.c: arbitrary text into the line-by-line PEM reader.
 * Properties: no crash or sanitizer report; block offsets and lengths stay inside what was
 * written; every block written back with cw_pem_write reads back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/codec/cw_pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[4096];
    static uint8_t back[4096];
    static char pem[8192];
    cw_pem_reader_ctx r;
    size_t start = 0;

    cw_pem_reader_init(&r, out, sizeof out);
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            (void)cw_pem_reader_push_line(&r, (const char *)data + start, i - start);
            start = i + 1;
        }
    }
    if (cw_pem_reader_finish(&r) != CW_OK) {
        return 0;
    }
    for (size_t b = 0; b < r.nblocks; b++) {
        size_t len;
        cw_pem_reader_ctx again;
        if (r.blocks[b].off + r.blocks[b].len > r.len || r.blocks[b].len == 0) {
            abort();
        }
        if (cw_pem_write(r.blocks[b].label, out + r.blocks[b].off, r.blocks[b].len, pem, sizeof pem, &len) != CW_OK) {
            abort();
        }
        cw_pem_reader_init(&again, back, sizeof back);
        for (char *line = pem; *line != '\0';) {
            char *nl = strchr(line, '\n');
            (void)cw_pem_reader_push_line(&again, line, (size_t)(nl - line));
            line = nl + 1;
        }
        if (cw_pem_reader_finish(&again) != CW_OK || again.blocks[0].len != r.blocks[b].len ||
            memcmp(back, out + r.blocks[b].off, r.blocks[b].len) != 0 ||
            strcmp(again.blocks[0].label, r.blocks[b].label) != 0) {
            abort();
        }
    }
    return 0;
}
