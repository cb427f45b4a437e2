#pragma once
// First-class counters and latency samples. Tests assert counters, not log text.
// Single-threaded by design: the loop that owns the engine owns its metrics.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rfq {

class Metrics {
 public:
  void inc(std::string_view name, std::uint64_t n = 1);
  std::uint64_t get(std::string_view name) const;
  const std::map<std::string, std::uint64_t, std::less<>>& counters() const { return counters_; }

  // Latency samples in microseconds, kept up to a bound (oldest kept, later ones sampled out).
  void observe_us(std::string_view series, std::int64_t us);
  // q in [0,1]; 0 when the series is empty.
  std::int64_t percentile_us(std::string_view series, double q) const;
  std::size_t samples(std::string_view series) const;

 private:
  static constexpr std::size_t kMaxSamples = 1 << 20;
  std::map<std::string, std::uint64_t, std::less<>> counters_;
  std::map<std::string, std::vector<std::int64_t>, std::less<>> series_;
};

}  // namespace rfq
