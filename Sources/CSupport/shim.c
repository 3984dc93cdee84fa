#include "CSupport.h"
#include <sys/prctl.h>

int fg_signal_on_parent_death(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}
