#include "engine/core/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace rfq {

void Metrics::inc(std::string_view name, std::uint64_t n) {
  auto it = counters_.find(name);
  if (it == counters_.end()) it = counters_.emplace(std::string(name), 0).first;
  it->second += n;
}

std::uint64_t Metrics::get(std::string_view name) const {
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

void Metrics::observe_us(std::string_view series, std::int64_t us) {
  auto it = series_.find(series);
  if (it == series_.end()) it = series_.emplace(std::string(series), std::vector<std::int64_t>{}).first;
  if (it->second.size() < kMaxSamples) it->second.push_back(us);
}

std::int64_t Metrics::percentile_us(std::string_view series, double q) const {
  auto it = series_.find(series);
  if (it == series_.end() || it->second.empty()) return 0;
  std::vector<std::int64_t> v = it->second;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  std::size_t k = rank == 0 ? 0 : std::min(rank - 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::size_t Metrics::samples(std::string_view series) const {
  auto it = series_.find(series);
  return it == series_.end() ? 0 : it->second.size();
}

}  // namespace rfq
