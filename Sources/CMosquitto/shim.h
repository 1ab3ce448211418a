#include <mosquitto.h>

#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>

/// The kernel id of the calling thread (Swift cannot call the variadic `syscall`).
static inline int gridledger_gettid(void) { return (int)syscall(SYS_gettid); }
#endif
