#include <sys/timex.h>

/// The kernel's clock state (ntp_adjtime with no modes: read-only). TIME_ERROR (5) while the
/// clock is not synchronised; -1 when the call is not allowed.
static inline int gridledger_clock_state(void) {
    struct timex state = {0};
    return ntp_adjtime(&state);
}
