#include "bindings/lua/lua_scan.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace rfq::lua {
namespace {

constexpr std::array<std::string_view, 22> kKeywords = {
    "and",      "break",  "do",   "else", "elseif", "end",  "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",  "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while"};

// Longest first, so that "..." is not read as ".." then ".".
constexpr std::array<std::string_view, 10> kLongSymbols = {
    "...", "..", "==", "~=", "<=", ">=", "<<", ">>", "//", "::"};

unsigned char uc(char c) { return static_cast<unsigned char>(c); }
bool is_newline(char c) { return c == '\n' || c == '\r'; }
bool is_name_start(char c) { return std::isalpha(uc(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(uc(c)) || c == '_'; }

class Scanner {
 public:
  explicit Scanner(std::string_view source) : src_(source) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    for (skip_blanks(); !done(); skip_blanks()) {
      const std::size_t start = pos_;
      const int line = line_;
      const TokenKind kind = scan_token();
      tokens.push_back({kind, std::string(src_.substr(start, pos_ - start)), line});
    }
    return tokens;
  }

 private:
  bool done() const { return pos_ >= src_.size(); }
  // The byte at i, or '\0' past the end (never mistaken for any delimiter looked for here).
  char at(std::size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  char cur() const { return at(pos_); }

  // "\n", "\r", "\r\n" and "\n\r" each end one line, as in Lua's own lexer.
  void newline() {
    const char first = src_[pos_++];
    if (is_newline(cur()) && cur() != first) ++pos_;
    ++line_;
  }

  void skip_blanks() {
    while (!done()) {
      const char c = cur();
      if (is_newline(c)) {
        newline();
      } else if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '-' && at(pos_ + 1) == '-') {
        skip_comment();
      } else {
        return;
      }
    }
  }

  // "--[==[ ... ]==]" is a long comment; any other "--" runs to the end of the line.
  void skip_comment() {
    pos_ += 2;
    if (const int level = long_bracket_level(); level >= 0) return skip_long_bracket(level);
    while (!done() && !is_newline(cur())) ++pos_;
  }

  // At "[": the number of '=' of an opening long bracket "[==[", or -1 when it is not one.
  int long_bracket_level() const {
    if (cur() != '[') return -1;
    std::size_t i = pos_ + 1;
    while (at(i) == '=') ++i;
    return at(i) == '[' ? static_cast<int>(i - pos_ - 1) : -1;
  }

  // From the opening bracket to just past the closing bracket of the same level.
  void skip_long_bracket(int level) {
    pos_ += static_cast<std::size_t>(level) + 2;
    while (!done()) {
      if (is_newline(cur())) {
        newline();
        continue;
      }
      if (cur() == ']') {
        std::size_t i = pos_ + 1;
        while (at(i) == '=') ++i;
        if (at(i) == ']' && static_cast<int>(i - pos_ - 1) == level) {
          pos_ = i + 1;
          return;
        }
      }
      ++pos_;
    }
  }

  // From the opening quote to just past the closing one. An unfinished string stops before
  // the line break.
  void skip_quoted() {
    const char quote = src_[pos_++];
    while (!done()) {
      const char c = cur();
      if (c == quote) {
        ++pos_;
        return;
      }
      if (is_newline(c)) return;
      ++pos_;
      if (c != '\\' || done()) continue;
      if (is_newline(cur())) {
        newline();  // "\" then a line break: the string goes on on the next line
      } else if (cur() == 'z') {
        ++pos_;  // "\z" skips the whitespace after it, line breaks included
        while (!done() && std::isspace(uc(cur()))) {
          if (is_newline(cur())) {
            newline();
          } else {
            ++pos_;
          }
        }
      } else {
        ++pos_;  // the escaped character; the rest of "\x41", "\u{41}", "\065" is plain text
      }
    }
  }

  // Lua's rule: hex or decimal digits and dots, an exponent mark with an optional sign.
  void skip_number() {
    std::string_view exponent = "Ee";
    if (cur() == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X')) {
      pos_ += 2;
      exponent = "Pp";
    }
    while (!done()) {
      const char c = cur();
      if (exponent.find(c) != std::string_view::npos) {
        ++pos_;
        if (cur() == '+' || cur() == '-') ++pos_;
      } else if (std::isxdigit(uc(c)) || c == '.') {
        ++pos_;
      } else {
        return;
      }
    }
  }

  TokenKind scan_token() {
    const char c = cur();
    if (is_name_start(c)) {
      const std::size_t start = pos_;
      while (!done() && is_name_char(cur())) ++pos_;
      const std::string_view word = src_.substr(start, pos_ - start);
      const bool keyword = std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
      return keyword ? TokenKind::Keyword : TokenKind::Name;
    }
    if (std::isdigit(uc(c)) || (c == '.' && std::isdigit(uc(at(pos_ + 1))))) {
      skip_number();
      return TokenKind::Number;
    }
    if (c == '"' || c == '\'') {
      skip_quoted();
      return TokenKind::String;
    }
    if (const int level = long_bracket_level(); level >= 0) {
      skip_long_bracket(level);
      return TokenKind::String;
    }
    for (std::string_view s : kLongSymbols) {
      if (src_.substr(pos_, s.size()) == s) {
        pos_ += s.size();
        return TokenKind::Symbol;
      }
    }
    ++pos_;  // any other character, including ones Lua would refuse
    return TokenKind::Symbol;
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<Token> scan_lua(std::string_view source) { return Scanner(source).run(); }

}  // namespace rfq::lua
