// One recorded operation in the define-by-run graph.
//
// An op that produced tensor y from inputs x0..xk stores a Node on y (y.grad_fn()). The
// node keeps the input handles (so the walk can continue into their own grad_fn) and a
// closure that maps dL/dy to dL/dx_i. Closures must capture only detached tensors
// (x.detach()): capturing y itself would make y -> node -> y a reference cycle.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/noncopyable.h"
#include "tensor/tensor.h"

namespace maskoff {

// What a backward closure returns, one gradient per input (undefined where none is
// needed), and what it is told: needs[i] says whether input i wants a gradient, so that
// expensive unused gradients (e.g. conv input-gradient of the first layer) are skipped.
using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

namespace autograd {

using BackwardFn = std::function<Grads(const Tensor& grad_output, const Needs& needs)>;

struct Node {
  std::string name;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  bool released = false;  // set once backward ran without retain_graph
  // The storage versions of the inputs (first) and the output (last) when the op ran.
  // Closures save inputs and outputs, so a changed version means a saved tensor changed.
  std::vector<std::pair<std::shared_ptr<Storage>, uint64_t>> versions;
};

// Attaches a node to `out` when grad mode is on and any input requires a gradient;
// returns `out` either way. This is the one call every differentiable op makes.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);

// Grad mode: a thread-local switch. While disabled, ops record nothing.
bool grad_enabled();
class NoGradGuard : NonCopyable {
 public:
  NoGradGuard();
  ~NoGradGuard();

 private:
  bool prev_;
};

}  // namespace autograd
}  // namespace maskoff
