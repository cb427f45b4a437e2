#include "bindings/modules/policy_host.hpp"

#include <filesystem>

#include "bindings/lua/lua_task.hpp"
#include "engine/core/log.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lua.h>
}

namespace rfq::lua {
namespace {

VmOptions vm_options(const PolicySpec& spec) {
  VmOptions o;
  o.name = spec.name;
  o.bad_yield_message =
      "attempt to yield from a policy task outside an rfq.* call (coroutine.yield at task "
      "level is not allowed; use rfq.sleep)";
  if (!spec.script.empty()) {
    auto dir = std::filesystem::path(spec.script).parent_path();
    o.require_paths.push_back(dir.empty() ? "." : dir.string());
  }
  if (!spec.scripts_lib_dir.empty()) o.require_paths.push_back(spec.scripts_lib_dir);
  return o;
}

PolicySpec with_name(PolicySpec spec) {
  if (spec.name.empty()) {
    spec.name = spec.script.empty() ? "policy" : std::filesystem::path(spec.script).stem().string();
  }
  return spec;
}

}  // namespace

PolicyHost::PolicyHost(Engine& engine, PolicySpec spec)
    : engine_(engine), spec_(with_name(std::move(spec))), logger_(log::get("script")) {
  vm_ = std::make_unique<LuaVm>(engine_.io(), engine_.clock(), vm_options(spec_));
  vm_->set_host(this);
  vm_->set_error_sink([this](const std::string& task, const std::string& message) {
    engine_.metrics().inc("lua.errors");
    logger_->error("[{}] task '{}' failed: {}", spec_.name, task, message);
  });
  open_rfq_module(*this);
}

PolicyHost::~PolicyHost() = default;

bool PolicyHost::load(std::string& error) {
  compiled_ = vm_->load_file(spec_.script, error);
  return compiled_;
}

bool PolicyHost::load_source(const std::string& source, const std::string& chunk_name,
                             std::string& error) {
  compiled_ = vm_->load_string(source, chunk_name, error);
  return compiled_;
}

void PolicyHost::start() {
  if (!compiled_ || main_) return;
  main_ = vm_->spawn(0, "main chunk");  // takes the compiled function off the stack
}

void PolicyHost::log(LogLevel level, const char* where, const char* message) noexcept {
  try {
    switch (level) {
      case LogLevel::debug: logger_->debug("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::info: logger_->info("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::warn: logger_->warn("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::error: logger_->error("[{}] {} {}", spec_.name, where, message); break;
    }
  } catch (...) {
    // Logging must never take a policy down.
  }
}

}  // namespace rfq::lua
