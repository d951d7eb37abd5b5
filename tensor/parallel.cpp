#include "tensor/parallel.h"

#include <unistd.h>

#include <cstdlib>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace maskoff {

void prefer_sleeping_omp_threads(char** argv) {
#ifdef _OPENMP
  if (argv == nullptr || argv[0] == nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");  // the restart failed: go on as we are
#else
  (void)argv;
#endif
}

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
