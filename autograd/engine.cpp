// Reverse-mode automatic differentiation over the recorded graph.
//
// 1. Collect every node reachable from the root's grad_fn and put them in topological
//    order (an iterative depth-first search, so a deep U-Net cannot overflow the stack).
// 2. Walk that order from the root towards the leaves. Each node receives the sum of the
//    gradients of all its consumers (all consumers come earlier in the walk), calls its
//    closure, and hands each input's gradient either to the input's own node or, for a
//    leaf, adds it into the leaf's .grad.
// 3. Unless asked to retain it, release each node's closure and inputs as soon as it ran,
//    which frees saved activations early.
#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "autograd/node.h"
#include "layers/elementwise.h"

namespace maskoff::autograd {

namespace {
thread_local bool g_grad_enabled = true;

// Adds g into a pending gradient. The first gradient is stored as it is; later ones are
// added out of place, because that first tensor may alias other data (add's backward hands
// the same gradient to both inputs), so writing into it could corrupt another gradient.
void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else {
    slot = add(slot, g);
  }
}

void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  Tensor cur = leaf.grad();
  if (!cur.defined()) {
    leaf.set_grad(g.clone());
  } else {
    add_(cur, g);  // in place: the gradient buffer (which zero_grad clears) stays the same
  }
}

// Fails, naming the op, when a tensor the node saved (an input or its output) was written
// in place after the forward pass: its gradient would be computed from the wrong values.
void check_versions(const Node& node) {
  for (size_t i = 0; i < node.versions.size(); ++i) {
    const auto& [storage, version] = node.versions[i];
    if (!storage || storage->version() == version) continue;
    const bool is_output = i + 1 == node.versions.size();
    MASKOFF_FAIL(
        "backward of '" << node.name << "': its "
                        << (is_output ? std::string("output") : "input " + std::to_string(i))
                        << " was modified in place after the forward pass (version " << version
                        << " -> " << storage->version() << "), e.g. by an optimizer step between "
                        << "forward and backward; run the forward again after the update");
  }
}

// Holds shared_ptrs: releasing a node during the walk drops its inputs, which may be the
// last owners of the nodes further down.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (!in.defined() || !in.grad_fn()) continue;
      const std::shared_ptr<Node>& child = in.grad_fn();
      if (seen.insert(child.get()).second) {
        MASKOFF_CHECK(!child->released, "backward through a graph that was already freed (node '"
                                            << child->name
                                            << "'); call backward(grad, /*retain_graph=*/true) "
                                            << "the first time to go through it twice");
        stack.emplace_back(child, 0);
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;  // post-order: every node after all of its inputs' nodes
}
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || t.requires_grad();
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  for (const Tensor& t : node->inputs)
    node->versions.emplace_back(t.defined() ? t.impl()->storage : nullptr,
                                t.defined() ? t.impl()->storage->version() : 0);
  node->versions.emplace_back(out.impl()->storage, out.impl()->storage->version());
  out.impl()->grad_fn = node;
  out.impl()->requires_grad = true;
  return out;
}

void run_backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  MASKOFF_CHECK(root.defined(), "backward() on an undefined tensor");
  MASKOFF_CHECK(root.requires_grad(),
                "backward() on " << root.str() << ", which does not require grad (no input of "
                                 << "the computation requires grad, or it ran under NoGradGuard)");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    MASKOFF_CHECK(root.numel() == 1,
                  "backward() without a gradient needs a one-element tensor, got "
                      << root.str() << "; pass the gradient explicitly");
    grad = ones_like(root);
  } else {
    check_same_shape(root, grad, "backward (gradient vs root)");
    check_same_dtype(root, grad, "backward (gradient vs root)");
    check_same_device(root, grad, "backward (gradient vs root)");
  }
  NoGradGuard no_grad;
  std::shared_ptr<Node> root_node = root.grad_fn();
  if (!root_node) {
    accumulate_leaf(root, grad);
    return;
  }
  MASKOFF_CHECK(!root_node->released, "backward through a graph that was already freed (node '"
                                          << root_node->name
                                          << "'); call backward(grad, /*retain_graph=*/true) "
                                          << "the first time to go through it twice");

  std::vector<std::shared_ptr<Node>> order = topological_order(root_node);
  std::unordered_map<Node*, Tensor> pending;
  pending[root_node.get()] = grad;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    auto found = pending.find(node);
    if (found != pending.end()) {
      Tensor g = std::move(found->second);
      pending.erase(found);
      check_versions(*node);
      Needs needs(node->inputs.size());
      for (size_t i = 0; i < needs.size(); ++i) needs[i] = node->inputs[i].requires_grad();
      Grads grads = node->backward(g, needs);
      MASKOFF_CHECK(grads.size() == node->inputs.size(),
                    "node '" << node->name << "' returned " << grads.size() << " gradients for "
                             << node->inputs.size() << " inputs");
      for (size_t i = 0; i < grads.size(); ++i) {
        if (!needs[i] || !grads[i].defined()) continue;
        const Tensor& in = node->inputs[i];
        MASKOFF_CHECK(grads[i].shape() == in.shape(),
                      "node '" << node->name << "' produced a gradient of shape "
                               << shape_str(grads[i].shape()) << " for input " << i << " of shape "
                               << shape_str(in.shape()));
        if (in.grad_fn()) {
          accumulate(pending[in.grad_fn().get()], grads[i]);
        } else {
          accumulate_leaf(in, grads[i]);
        }
      }
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->inputs.clear();
      node->released = true;
    }
  }
}

}  // namespace maskoff::autograd
