#include "tensor/parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace maskoff {
#ifdef _OPENMP
int num_threads() { return omp_get_max_threads(); }
void set_num_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}
#else
int num_threads() { return 1; }
void set_num_threads(int) {}
#endif
}  // namespace maskoff
