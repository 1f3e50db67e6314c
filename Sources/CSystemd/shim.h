// sd_notify for Type=notify services and sd_journal_sendv for structured journal entries
// (libsystemd). Swift cannot call the variadic sd_notifyf or sd_journal_send; the non-variadic
// sd_notify and sd_journal_sendv take what they need.
#include <signal.h>
#include <stddef.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/// Unblocks the signals faced handles: a parent may hand down a blocked mask.
static inline void csd_unblock_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}
