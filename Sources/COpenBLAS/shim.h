#ifndef DRIFT_COPENBLAS_SHIM_H
#define DRIFT_COPENBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>

/// The OpenBLAS build configuration string (for diagnostics and benchmark headers).
static inline const char *drift_openblas_config(void) { return openblas_get_config(); }
#endif
