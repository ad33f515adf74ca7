/*
 * host_hook.h: `--on-change CMD` on the host board: a command run after each role event, with
 * what changed in its environment (certmonger's post-save command), so that a Linux appliance's
 * services can reload.
 *
 * Events are queued as they come (certwiz's listener) and the command is started from the main
 * loop (host_hook_poll), one at a time and never waited for: a slow command never stops the
 * device. The environment (docs/integration.md lists it):
 *   CW_EVENT            assigned, renewed, pending, failed, expiring
 *   CW_ROLE, CW_SET     the role and its certificate set
 *   CW_GENERATION, CW_OLD_GENERATION   cw_roles.h's generation after and before
 *   CW_ERROR            failed: the error's name
 *   CW_KEY_URI, CW_CERT_URI            the role's pkcs11: URIs (when it has a certificate)
 *   CW_PKCS11_MODULE    the module certwiz loaded (--module), for tools that open the token
 */
#ifndef HOST_HOOK_H
#define HOST_HOOK_H

/* Starts listening for role events; cmd runs through /bin/sh -c. module may be NULL. */
void host_hook_init(const char *cmd, const char *module);

/* Starts the next queued command when none runs, and collects the one that ended. */
void host_hook_poll(void);

/* Stops listening; a command still running is left to finish. */
void host_hook_close(void);

#endif /* HOST_HOOK_H */
