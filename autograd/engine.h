// The reverse-mode sweep. See autograd/engine.cpp for the algorithm.
#pragma once
#include "tensor/tensor.h"

namespace maskoff::autograd {

// Back-propagates `grad` (dL/droot; defaults to 1 for a one-element root) through the
// graph that produced `root`, accumulating into the .grad of every leaf that requires it.
// Without retain_graph the graph is freed; a second backward through it is an error.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace maskoff::autograd
