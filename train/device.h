// The --device choice shared by the training, evaluation and timing programs.
#pragma once
#include <ostream>
#include <string>

#include "tensor/device.h"

namespace maskoff::train {

// auto: CUDA when a GPU is usable, else the CPU (saying so on `log`); cuda without a GPU
// throws with the reason.
Device select_device(const std::string& want, std::ostream& log);

}  // namespace maskoff::train
