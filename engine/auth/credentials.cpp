#include "engine/auth/credentials.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rfq::auth {

std::optional<std::string> from_env(const std::string& name) {
  if (const char* v = std::getenv(name.c_str()); v != nullptr && *v != '\0') return std::string(v);
  const std::string file_var = name + "_FILE";
  if (const char* path = std::getenv(file_var.c_str()); path != nullptr && *path != '\0') {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  return std::nullopt;
}

}  // namespace rfq::auth
