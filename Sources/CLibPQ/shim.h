#ifndef DRIFT_CLIBPQ_SHIM_H
#define DRIFT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
