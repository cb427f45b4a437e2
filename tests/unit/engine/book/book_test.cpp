// The RFQ book: open RFQs per venue with an expiry index (DESIGN §4 rfq.open).
#include "engine/book/book.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using rfq::Book;
using rfq::OpenQuery;
using rfq::Rfq;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

Rfq make(std::string venue, std::string id, std::int64_t expires_ms, std::string state = "active",
         std::string client_id = "", std::int64_t created_ms = kNow - 1000) {
  Rfq r;
  r.venue = std::move(venue);
  r.id = std::move(id);
  r.client_id = std::move(client_id);
  r.state = std::move(state);
  r.raw_state = r.state;
  r.created_ms = created_ms;
  r.expires_ms = expires_ms;
  r.legs.push_back({"BTC-USDT-SWAP", "buy", "1"});
  return r;
}

std::vector<std::string> ids(const std::vector<const Rfq*>& v) {
  std::vector<std::string> out;
  for (const Rfq* r : v) out.push_back(r->venue + ":" + r->id);
  return out;
}

}  // namespace

TEST_CASE("book: upsert, find and find_by_client_id", "[book]") {
  Book book;
  CHECK(book.upsert(make("okx", "1", kNow + 5000, "active", "c1")).empty());
  CHECK(book.size() == 1);
  CHECK(book.active_count() == 1);

  const Rfq* r = book.find("okx", "1");
  REQUIRE(r);
  CHECK(r->client_id == "c1");
  CHECK(book.find_by_client_id("okx", "c1") == r);
  CHECK(book.find("deribit", "1") == nullptr);  // ids are per venue
  CHECK(book.find_by_client_id("deribit", "c1") == nullptr);
  CHECK(book.find("okx", "2") == nullptr);
  CHECK(book.find_by_client_id("okx", "") == nullptr);

  SECTION("upsert replaces by (venue, id) and returns the previous state") {
    CHECK(book.upsert(make("okx", "1", kNow + 9000, "canceled", "c1")) == "active");
    CHECK(book.size() == 1);
    CHECK(book.active_count() == 0);
    REQUIRE(book.find("okx", "1"));
    CHECK(book.find("okx", "1")->state == "canceled");
    CHECK(book.find("okx", "1")->expires_ms == kNow + 9000);
  }
  SECTION("a changed client id is re-indexed") {
    book.upsert(make("okx", "1", kNow + 5000, "active", "c2"));
    CHECK(book.find_by_client_id("okx", "c1") == nullptr);
    REQUIRE(book.find_by_client_id("okx", "c2"));
    CHECK(book.find_by_client_id("okx", "c2")->id == "1");
  }
  SECTION("same id on another venue is another RFQ") {
    CHECK(book.upsert(make("deribit", "1", kNow + 5000)).empty());
    CHECK(book.size() == 2);
    CHECK(book.active_count() == 2);
  }
}

TEST_CASE("book: open() lists active RFQs not past expiry, soonest first", "[book]") {
  Book book;
  book.upsert(make("okx", "late", kNow + 30'000));
  book.upsert(make("okx", "soon", kNow + 1'000));
  book.upsert(make("deribit", "mid", kNow + 10'000));
  book.upsert(make("okx", "past", kNow - 1));
  book.upsert(make("okx", "now", kNow));  // at its expiry instant it is no longer open
  book.upsert(make("okx", "canceled", kNow + 2'000, "canceled"));
  book.upsert(make("okx", "filled", kNow + 2'000, "filled"));
  book.upsert(make("okx", "pending", kNow + 2'000, "pending_fill"));

  CHECK(ids(book.open({}, kNow)) ==
        std::vector<std::string>{"okx:soon", "deribit:mid", "okx:late"});

  SECTION("time moving on drops RFQs that expired") {
    CHECK(ids(book.open({}, kNow + 1'000)) == std::vector<std::string>{"deribit:mid", "okx:late"});
    CHECK(book.open({}, kNow + 30'000).empty());
  }
  SECTION("venue filter") {
    OpenQuery q;
    q.venue = "okx";
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon", "okx:late"});
    q.venue = "okx_spread";
    CHECK(book.open(q, kNow).empty());
  }
  SECTION("expiring_within_ms is inclusive") {
    OpenQuery q;
    q.expiring_within_ms = 10'000;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon", "deribit:mid"});
    q.expiring_within_ms = 9'999;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon"});
    q.expiring_within_ms = 0;
    CHECK(book.open(q, kNow).empty());
  }
}

TEST_CASE("book: older_than_ms filters on creation time", "[book]") {
  Book book;
  book.upsert(make("okx", "old", kNow + 5'000, "active", "", kNow - 60'000));
  book.upsert(make("okx", "young", kNow + 1'000, "active", "", kNow - 500));
  book.upsert(make("deribit", "mid", kNow + 3'000, "active", "", kNow - 10'000));

  OpenQuery q;
  q.older_than_ms = 10'000;  // inclusive: created at or before now - 10 s
  CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"deribit:mid", "okx:old"});
  q.older_than_ms = 10'001;
  CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:old"});

  SECTION("combined with expiring_within_ms and venue") {
    q.older_than_ms = 1'000;
    q.expiring_within_ms = 4'000;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"deribit:mid"});
    q.venue = "okx";
    CHECK(book.open(q, kNow).empty());
  }
}

TEST_CASE("book: set_state by id or client id removes the RFQ from open()", "[book]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  book.upsert(make("okx", "2", kNow + 6'000, "active", "c2"));
  book.upsert(make("deribit", "3", kNow + 7'000));

  SECTION("by id") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:2", "deribit:3"});
    REQUIRE(book.find("okx", "1"));
    CHECK(book.find("okx", "1")->state == "canceled");
    CHECK(book.find("okx", "1")->raw_state == "canceled");
    CHECK(book.active_count() == 2);
  }
  SECTION("by client id when the id is empty") {
    REQUIRE(book.set_state("okx", "", "c2", "failed", "traded_away"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:1", "deribit:3"});
    REQUIRE(book.find("okx", "2"));
    CHECK(book.find("okx", "2")->state == "failed");
    CHECK(book.find("okx", "2")->raw_state == "traded_away");
  }
  SECTION("back to active returns it to open()") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    REQUIRE(book.set_state("okx", "1", "", "active", "active"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:1", "okx:2", "deribit:3"});
  }
  SECTION("unknown RFQs are reported, not created") {
    CHECK_FALSE(book.set_state("okx", "99", "", "canceled", "canceled"));
    CHECK_FALSE(book.set_state("okx", "", "nope", "canceled", "canceled"));
    CHECK_FALSE(book.set_state("deribit", "", "c1", "canceled", "canceled"));
    CHECK(book.size() == 3);
    CHECK(book.active_count() == 3);
  }
}

TEST_CASE("book: replace_active drops vanished RFQs of that venue only", "[book]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  book.upsert(make("okx", "2", kNow + 6'000, "active", "c2"));
  book.upsert(make("okx", "done", kNow + 6'000, "canceled"));
  book.upsert(make("deribit", "2", kNow + 7'000));

  std::vector<Rfq> snapshot;
  snapshot.push_back(make("okx", "2", kNow + 6'500, "active", "c2"));
  snapshot.push_back(make("okx", "4", kNow + 4'000, "active", "c4"));
  book.replace_active("okx", std::move(snapshot));

  CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:4", "okx:2", "deribit:2"});
  CHECK(book.find("okx", "1") == nullptr);  // ended while we were not looking
  CHECK(book.find_by_client_id("okx", "c1") == nullptr);
  REQUIRE(book.find("okx", "2"));
  CHECK(book.find("okx", "2")->expires_ms == kNow + 6'500);  // snapshot wins
  REQUIRE(book.find_by_client_id("okx", "c4"));
  CHECK(book.find_by_client_id("okx", "c4")->id == "4");
  REQUIRE(book.find("okx", "done"));  // not active: not the snapshot's business
  REQUIRE(book.find("deribit", "2"));
  CHECK(book.size() == 4);
  CHECK(book.active_count() == 3);

  SECTION("an empty snapshot empties that venue's active set") {
    book.replace_active("okx", {});
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"deribit:2"});
  }
}

TEST_CASE("book: 100,000 RFQs answer an expiry sweep with only the matches", "[book]") {
  Book book;
  constexpr int kCount = 100'000;
  for (int i = 0; i < kCount; ++i) {
    // Expiries spread 1 ms apart over 100 s; every 10th is already canceled; 2 venues.
    std::string state = (i % 10 == 0) ? "canceled" : "active";
    book.upsert(make(i % 2 ? "deribit" : "okx", std::to_string(i), kNow + 1 + i, state,
                     "c" + std::to_string(i)));
  }
  CHECK(book.size() == kCount);
  CHECK(book.active_count() == kCount - kCount / 10);

  OpenQuery q;
  q.expiring_within_ms = 5'000;  // expiries kNow+1 .. kNow+5000 -> i in [0, 4999]
  auto due = book.open(q, kNow);
  CHECK(due.size() == 4'500);
  bool sorted_and_in_window = true;
  for (std::size_t k = 0; k < due.size(); ++k) {
    if (due[k]->expires_ms > kNow + 5'000 || due[k]->state != "active")
      sorted_and_in_window = false;
    if (k && due[k - 1]->expires_ms > due[k]->expires_ms) sorted_and_in_window = false;
  }
  CHECK(sorted_and_in_window);

  q.venue = "okx";  // even i; every 10th of all is canceled, which is always an even i
  CHECK(book.open(q, kNow).size() == 2'500 - 500);

  OpenQuery all;
  CHECK(book.open(all, kNow + 50'000).size() == 45'000);
  REQUIRE(book.find_by_client_id("okx", "c99998"));
  CHECK(book.find_by_client_id("okx", "c99998")->id == "99998");
}

TEST_CASE("book: RFQs found past expiry are marked expired and finished ones can be evicted",
          "[book]") {
  rfq::Book book;
  auto make = [](std::string id, std::int64_t expires) {
    rfq::Rfq r;
    r.venue = "okx";
    r.id = std::move(id);
    r.state = r.raw_state = "active";
    r.expires_ms = expires;
    return r;
  };
  book.upsert(make("1", 1000));
  book.upsert(make("2", 5000));
  book.upsert(make("3", 9000));
  REQUIRE(book.active_count() == 3);
  REQUIRE(book.set_state("okx", "2", "", "canceled", "canceled"));
  CHECK(book.active_count() == 2);

  auto open = book.open({}, 2000);
  REQUIRE(open.size() == 1);
  CHECK(open[0]->id == "3");
  CHECK(book.find("okx", "1")->state == "expired");
  CHECK(book.active_count() == 1);

  CHECK(book.evict_finished(4000) == 1);  // "1" expired at 1000; "2" canceled but expires 5000
  CHECK(book.find("okx", "1") == nullptr);
  CHECK(book.find("okx", "2") != nullptr);
  CHECK(book.evict_finished(6000) == 1);
  CHECK(book.find("okx", "2") == nullptr);
  CHECK(book.size() == 1);
  CHECK(book.active_count() == 1);
}
