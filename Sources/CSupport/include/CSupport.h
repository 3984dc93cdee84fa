// prctl is variadic in C: a fixed-type doorway for Swift.
#ifndef FETCHGATE_CSUPPORT_H
#define FETCHGATE_CSUPPORT_H

/// Asks the kernel to send `signal` to this process when its parent exits (PR_SET_PDEATHSIG).
/// Returns 0 on success.
int fg_signal_on_parent_death(int signal);

#endif
