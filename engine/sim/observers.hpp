#pragma once
// The observers of a simulator model's state changes (OkxSim's RFQs, DeribitSim's block RFQs):
// called synchronously, in registration order. A callback may remove itself or any other
// observer while it runs; one removed before its turn is not called.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace rfq::sim {

template <typename T>
class ObserverList {
 public:
  using Observer = std::function<void(const T&)>;

  // Returns the id remove() takes.
  std::uint64_t add(Observer observer) {
    const auto id = next_id_++;
    observers_.emplace(id, std::make_shared<const Observer>(std::move(observer)));
    return id;
  }

  void remove(std::uint64_t id) { observers_.erase(id); }  // unknown ids are ignored

  // Over a snapshot of ids, holding each callback while it runs, so that removals made by a
  // callback neither invalidate the walk nor destroy the function that is running.
  void notify(const T& value) const {
    if (observers_.empty()) return;
    std::vector<std::uint64_t> ids;
    ids.reserve(observers_.size());
    for (const auto& [id, fn] : observers_) ids.push_back(id);
    for (const auto id : ids) {
      const auto it = observers_.find(id);
      if (it == observers_.end()) continue;
      const auto fn = it->second;
      (*fn)(value);
    }
  }

 private:
  std::map<std::uint64_t, std::shared_ptr<const Observer>> observers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace rfq::sim
