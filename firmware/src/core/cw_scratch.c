/*
 * cw_scratch.c: the console commands' shared scratch (cw_scratch.h says who may use it when).
 */
#include "cw/core/cw_scratch.h"

cw_scratch_t cw_scratch;
