#include "engine/book/underlying.hpp"

#include <charconv>
#include <cmath>

namespace rfq {

std::string_view underlying_of(std::string_view venue, std::string_view instrument) {
  const std::size_t parts = venue == "okx" ? 2 : 1;
  std::size_t end = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t dash = instrument.find('-', i == 0 ? 0 : end + 1);
    if (dash == std::string_view::npos) return instrument;
    end = dash;
  }
  return instrument.substr(0, end);
}

bool parse_decimal(std::string_view text, double& out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  const auto [p, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && p == last && std::isfinite(out) && out >= 0;
}

LegSize parse_leg_size(std::string_view text) {
  LegSize s;
  const std::size_t x = text.find('x');
  if (!parse_decimal(text.substr(0, x), s.amount)) return s;
  if (x != std::string_view::npos && !parse_decimal(text.substr(x + 1), s.ratio)) return s;
  s.ok = true;
  return s;
}

}  // namespace rfq
