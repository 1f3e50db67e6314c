// sd_notify for Type=notify services (libsystemd). Swift cannot call the variadic
// sd_notifyf, and sd_notify takes what it needs.
#include <signal.h>
#include <stddef.h>
#include <systemd/sd-daemon.h>

/// Unblocks the signals faced handles: a parent may hand down a blocked mask.
static inline void csd_unblock_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}
