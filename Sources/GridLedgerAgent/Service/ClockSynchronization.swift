import CClockState

/// Whether the kernel considers the system clock synchronised (by NTP, chrony or
/// systemd-timesyncd): `ntp_adjtime` reports `TIME_ERROR` while it is not. Recorded in every
/// record's flags, so a reader knows how far to trust its capture time.
public enum ClockSynchronization {
    public static func isSynchronized() -> Bool {
        let state = gridledger_clock_state()
        // -1: not allowed to ask (a seccomp filter): unknown counts as not synchronised.
        return state >= 0 && state != TIME_ERROR
    }
}
