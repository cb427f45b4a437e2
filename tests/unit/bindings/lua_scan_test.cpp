// The Lua lexer of rfqd check: comments and string contents never yield names, and every token
// carries the line it starts on, however many lines the strings and comments before it span.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bindings/lua/lua_scan.hpp"

using namespace rfq::lua;

namespace {

// "name@line" for every Name token: what the checks look at.
std::vector<std::string> names(const std::string& source) {
  std::vector<std::string> out;
  for (const Token& t : scan_lua(source)) {
    if (t.kind == TokenKind::Name) out.push_back(t.text + "@" + std::to_string(t.line));
  }
  return out;
}

std::vector<std::string> texts(const std::string& source) {
  std::vector<std::string> out;
  for (const Token& t : scan_lua(source)) out.push_back(t.text);
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("lua scan: names, keywords and symbols with their lines", "[lua][scan]") {
  const auto tokens = scan_lua("local t = rfq.log.info\nsub:cancel()\n");
  REQUIRE(tokens.size() == 13);
  CHECK(tokens[0].kind == TokenKind::Keyword);
  CHECK(tokens[1].kind == TokenKind::Name);
  CHECK(tokens[2].kind == TokenKind::Symbol);
  CHECK(tokens[2].text == "=");
  CHECK(texts("rfq.log.info") == Names{"rfq", ".", "log", ".", "info"});
  CHECK(tokens[9].text == ":");
  CHECK(tokens[9].line == 2);
  CHECK(names("local t = rfq.log.info\nsub:cancel()\n") ==
        Names{"t@1", "rfq@1", "log@1", "info@1", "sub@2", "cancel@2"});
}

TEST_CASE("lua scan: multi-character symbols are one token", "[lua][scan]") {
  CHECK(texts("a..b...c==d~=e<=f>=g<<h>>i//j::k::") ==
        Names{"a",  "..", "b",  "...", "c",  "==", "d",  "~=", "e",  "<=", "f",
              ">=", "g",  "<<", "h",   ">>", "i",  "//", "j",  "::", "k",  "::"});
  CHECK(texts("x = -y") == Names{"x", "=", "-", "y"});
}

TEST_CASE("lua scan: comments never yield names", "[lua][scan]") {
  SECTION("line comment") { CHECK(names("a -- io.open(b)\nc") == Names{"a@1", "c@2"}); }
  SECTION("long comment over lines") {
    CHECK(names("a --[[ io.open\n dofile ]] b\nc") == Names{"a@1", "b@2", "c@3"});
  }
  SECTION("long comment with a level ignores shorter closing brackets") {
    CHECK(names("--[==[ x ]] y ]=] z\n]==] after") == Names{"after@2"});
  }
  SECTION("'--[' without a long bracket is a line comment") {
    CHECK(names("--[ a\nb --[= c\nd") == Names{"b@2", "d@3"});
  }
  SECTION("a comment at the end of the source") { CHECK(names("a --") == Names{"a@1"}); }
}

TEST_CASE("lua scan: string contents never yield names", "[lua][scan]") {
  SECTION("quoted strings with escaped quotes") {
    CHECK(names(R"(a = "io.open \" dofile" .. 'os.execute \' debug' b)") == Names{"a@1", "b@1"});
    CHECK(texts(R"("x\"y")") == Names{R"("x\"y")"});
  }
  SECTION("a backslash before the line break continues the string") {
    CHECK(names("s = 'one \\\n io' b") == Names{"s@1", "b@2"});
  }
  SECTION("\\z skips line breaks") { CHECK(names("s = 'a\\z\n\n  io' b") == Names{"s@1", "b@3"}); }
  SECTION("long strings, with and without a level") {
    CHECK(names("s = [[ io\n]] t = [=[ ]] dofile\n]=] u") == Names{"s@1", "t@2", "u@3"});
  }
  SECTION("an index is not a long string") {
    CHECK(texts("t[k]") == Names{"t", "[", "k", "]"});
    CHECK(texts("t[ [[x]] ]") == Names{"t", "[", "[[x]]", "]"});
  }
  SECTION("an unfinished string ends at its line") {
    CHECK(names("s = 'open\nio") == Names{"s@1", "io@2"});
  }
  SECTION("an unfinished long string runs to the end") {
    CHECK(names("s = [[ open\nio") == Names{"s@1"});
  }
}

TEST_CASE("lua scan: numbers are one token, exponents included", "[lua][scan]") {
  CHECK(texts("1e-5 + 0x1p+4 + 3.25 + .5 + 0xfE + 10") ==
        Names{"1e-5", "+", "0x1p+4", "+", "3.25", "+", ".5", "+", "0xfE", "+", "10"});
  CHECK(names("x = 1e10 + 0xff") == Names{"x@1"});
  CHECK(scan_lua("42")[0].kind == TokenKind::Number);
}

TEST_CASE("lua scan: every line break style counts one line", "[lua][scan]") {
  CHECK(names("a\r\nb\rc\nd\n\re") == Names{"a@1", "b@2", "c@3", "d@4", "e@5"});
  CHECK(names("--[[\r\n\r\n]] a") == Names{"a@3"});
}

TEST_CASE("lua scan: empty and blank sources give no tokens", "[lua][scan]") {
  CHECK(scan_lua("").empty());
  CHECK(scan_lua(" \t\n-- only a comment\n").empty());
}
