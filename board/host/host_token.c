/*
 * host_token.c: the host board's token provider. A PKCS#11 module loaded with p11-kit: the one
 * given with --module, or by default SoftHSM2 as p11-kit's system configuration names it
 * (/usr/share/p11-kit/modules/softhsm2.module). The token inside it is chosen by --token.
 */
#include "hal_token.h"
#include "host_board.h"

#include <stdio.h>
#include <string.h>

#include <p11-kit/p11-kit.h>

#define HOST_DEFAULT_MODULE_NAME "softhsm2"

static CK_FUNCTION_LIST **all_modules; /* from p11_kit_modules_load, when no path was given */
static CK_FUNCTION_LIST *module;       /* the one in use */
static bool loaded_by_path;
static hal_token_t config;
static char why[256];                  /* why there is no token, for the log */

int host_token_load(const char *path, const char *uri, uint32_t idle_logout_ms)
{
    config.uri = uri;
    config.idle_logout_ms = idle_logout_ms;
    if (path != NULL) {
        module = p11_kit_module_load(path, 0);
        loaded_by_path = module != NULL;
        if (module == NULL) {
            snprintf(why, sizeof why, "cannot load PKCS#11 module %s: %s", path, p11_kit_message());
        }
    } else {
        all_modules = p11_kit_modules_load(NULL, 0);
        if (all_modules != NULL) {
            module = p11_kit_module_for_name(all_modules, HOST_DEFAULT_MODULE_NAME);
        }
        if (module == NULL) {
            snprintf(why, sizeof why, "p11-kit knows no module named %s (is softhsm2 installed?)",
                     HOST_DEFAULT_MODULE_NAME);
        }
    }
    if (module == NULL) {
        fprintf(stderr, "certwiz: %s; running without a token\n", why);
        return -1;
    }
    config.fl = module;
    return 0;
}

void host_token_release(void)
{
    if (loaded_by_path) {
        p11_kit_module_release(module);
    }
    if (all_modules != NULL) {
        p11_kit_modules_release(all_modules);
    }
    module = NULL;
    all_modules = NULL;
    loaded_by_path = false;
}

cw_err hal_token_get(hal_token_t *out)
{
    if (module == NULL) {
        return CW_ERR_NO_TOKEN;
    }
    *out = config;
    return CW_OK;
}
