#include "train/device.h"

#include "tensor/backend.h"
#include "tensor/error.h"

namespace maskoff::train {

Device select_device(const std::string& want, std::ostream& log) {
  if (want == "cpu") return Device::cpu();
  const bool ok = backend::cuda_available();
  if (want == "cuda") {
    MASKOFF_CHECK(ok, "--device cuda: " << backend::cuda_report());
    return Device::cuda();
  }
  MASKOFF_CHECK(want == "auto", "--device must be auto, cpu or cuda, got '" << want << "'");
  if (ok) return Device::cuda();
  log << "device: " << backend::cuda_report() << "; using the CPU\n";
  return Device::cpu();
}

}  // namespace maskoff::train
