/* SPDX-License-Identifier: MIT */
/* Stand-in for <criterion/parameterized.h> in ThreadSanitizer builds: criterion.h has it all. */
#include "criterion.h"
