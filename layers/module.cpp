// Module bookkeeping: registration, recursive listings, train/eval, and init helpers.
#include "layers/module.h"

#include <cmath>
#include <unordered_map>

#include "tensor/backend.h"
#include "tensor/random.h"

namespace maskoff {

Tensor Module::forward(const Tensor&) {
  MASKOFF_FAIL(type_name_ << ": this module has no forward(); call its children instead");
}

void Module::check_new_name(const std::string& name) const {
  MASKOFF_CHECK(!name.empty(), type_name_ << ": empty name");
  MASKOFF_CHECK(name.find('.') == std::string::npos,
                type_name_ << ": name '" << name << "' must not contain '.'");
  auto taken = [&](const auto& list) {
    for (const auto& e : list)
      if (e.first == name) return true;
    return false;
  };
  MASKOFF_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_),
                type_name_ << ": name '" << name << "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  MASKOFF_CHECK(t.defined(), type_name_ << ": parameter '" << name << "' is undefined");
  MASKOFF_CHECK(t.is_leaf(), type_name_ << ": parameter '" << name << "' (" << t.str()
                                        << ") must be a leaf; pass x.detach()");
  t.set_requires_grad(true);
  if (t.name().empty()) t.set_name(name);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  MASKOFF_CHECK(t.defined(), type_name_ << ": buffer '" << name << "' is undefined");
  if (t.name().empty()) t.set_name(name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  MASKOFF_CHECK(m != nullptr, type_name_ << ": child module '" << name << "' is null");
  MASKOFF_CHECK(m.get() != this, type_name_ << ": a module cannot contain itself");
  m->train(training_);
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, bool params,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, t] : params ? params_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", true, out);
  return out;
}
std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", false, out);
  return out;
}
std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& e : named_parameters()) out.push_back(e.second);
  return out;
}
std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& e : named_buffers()) out.push_back(e.second);
  return out;
}

namespace {
Tensor find_named(const std::vector<std::pair<std::string, Tensor>>& list, const std::string& name,
                  const std::string& owner, const char* kind) {
  for (const auto& e : list)
    if (e.first == name) return e.second;
  MASKOFF_FAIL(owner << ": no " << kind << " named '" << name << "'");
}
}  // namespace

Tensor Module::parameter(const std::string& dotted_name) const {
  return find_named(named_parameters(), dotted_name, type_name_, "parameter");
}
Tensor Module::buffer(const std::string& dotted_name) const {
  return find_named(named_buffers(), dotted_name, type_name_, "buffer");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

void Module::apply(const std::function<void(Module&)>& f) {
  f(*this);
  for (auto& c : children_) c.second->apply(f);
}

void Module::clear_grad() {
  for (const Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::to_(Device device) {
  // Old storage -> its copy on `device`. The old blocks are kept alive until the end so
  // that no address can be reused while it still serves as a key.
  std::unordered_map<const Storage*, std::pair<std::shared_ptr<Storage>, std::shared_ptr<Storage>>>
      moved;
  auto move = [&](TensorImpl* impl) {
    std::shared_ptr<Storage>& st = impl->storage;
    if (st->device() == device) return;
    auto it = moved.find(st.get());
    if (it == moved.end()) {
      auto fresh = std::make_shared<Storage>(st->nbytes(), device);
      backend::copy_bytes(fresh->data(), device, st->data(), st->device(), st->nbytes());
      it = moved.emplace(st.get(), std::make_pair(st, fresh)).first;
    }
    impl->storage = it->second.second;
  };
  for (const Tensor& p : parameters()) {
    move(p.impl());
    if (p.impl()->grad) move(p.impl()->grad.get());
  }
  for (const Tensor& b : buffers()) move(b.impl());
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

// ---- init helpers ---------------------------------------------------------------------

namespace {
thread_local bool skip_init = false;
}  // namespace

SkipInitGuard::SkipInitGuard() : prev_(skip_init) { skip_init = true; }
SkipInitGuard::~SkipInitGuard() { skip_init = prev_; }
bool SkipInitGuard::active() { return skip_init; }

void init_uniform_(const Tensor& t, Generator& g, double lo, double hi) {
  if (skip_init) return;
  copy_(t, rand(t.shape(), g, t.dtype(), t.device(), lo, hi));
}
void init_normal_(const Tensor& t, Generator& g, double mean, double stddev) {
  if (skip_init) return;
  copy_(t, randn(t.shape(), g, t.dtype(), t.device(), mean, stddev));
}
void init_constant_(const Tensor& t, double value) {
  if (skip_init) return;
  fill_(t, value);
}
void init_default_uniform_(const Tensor& t, Generator& g, int64_t fan_in) {
  MASKOFF_CHECK(fan_in > 0, "init_default_uniform_: fan_in must be positive, got " << fan_in);
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  init_uniform_(t, g, -bound, bound);
}

}  // namespace maskoff
