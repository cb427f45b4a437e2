#include "engine/venues/feed_confirmations.hpp"

#include "engine/core/error.hpp"

namespace rfq {

FeedConfirmations::~FeedConfirmations() = default;

bool FeedConfirmations::is_final(std::string_view state) {
  return state == "canceled" || state == "expired" || state == "filled" || state == "failed";
}

void FeedConfirmations::wait(std::vector<Key> keys, SteadyTime deadline, Done done) {
  if (keys.empty()) return done({}, {});
  const std::uint64_t id = next_group_++;
  Group& g = groups_[id];
  g.states.resize(keys.size());
  g.left = keys.size();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Key& k = keys[i];
    if (!k.id.empty()) {
      by_id_.emplace(k.id, Member{id, i});
    } else {
      by_client_id_.emplace(k.client_id, Member{id, i});
    }
  }
  g.keys = std::move(keys);
  g.done = std::move(done);
  g.timer = clock_.schedule_at(deadline, [this, id] { expire(id); });
}

void FeedConfirmations::settle(Index& index, std::string_view key, std::string_view state,
                               std::vector<std::uint64_t>& finished) {
  if (key.empty()) return;
  auto [first, last] = index.equal_range(key);
  for (auto it = first; it != last;) {
    auto g = groups_.find(it->second.group);
    if (g != groups_.end() && g->second.states[it->second.index].empty()) {
      g->second.states[it->second.index].assign(state);
      if (--g->second.left == 0) finished.push_back(g->first);
    }
    it = index.erase(it);
  }
}

void FeedConfirmations::report(std::string_view id, std::string_view client_id,
                               std::string_view state) {
  if (!is_final(state) || groups_.empty()) return;
  std::vector<std::uint64_t> finished;
  settle(by_id_, id, state, finished);
  settle(by_client_id_, client_id, state, finished);
  for (std::uint64_t g : finished) complete(g, {});
}

void FeedConfirmations::expire(std::uint64_t group) {
  auto g = groups_.find(group);
  if (g == groups_.end()) return;
  // Forget the members still indexed, so a late push finds nothing of this group.
  for (std::size_t i = 0; i < g->second.keys.size(); ++i) {
    if (!g->second.states[i].empty()) continue;
    const Key& k = g->second.keys[i];
    Index& index = k.id.empty() ? by_client_id_ : by_id_;
    auto [first, last] = index.equal_range(k.id.empty() ? k.client_id : k.id);
    for (auto it = first; it != last;) {
      it = it->second.group == group ? index.erase(it) : std::next(it);
    }
  }
  complete(group, make_error_code(Errc::timeout));
}

void FeedConfirmations::complete(std::uint64_t group, boost::system::error_code why) {
  auto node = groups_.extract(group);
  if (node.empty()) return;
  Group& g = node.mapped();
  g.timer.cancel();
  std::move(g.done)(std::move(g.states), why);
}

void FeedConfirmations::fail_all(boost::system::error_code why) {
  auto groups = std::move(groups_);
  groups_.clear();
  by_id_.clear();
  by_client_id_.clear();
  for (auto& [id, g] : groups) {
    g.timer.cancel();
    std::move(g.done)(std::move(g.states), why);
  }
}

}  // namespace rfq
