#pragma once
// A small Lua 5.4 lexer for static checks (rfqd check): it skips whitespace and comments and
// hands back names, keywords, numbers, strings and symbols with the line each one starts on.
// It never fails: compiling the source is what reports syntax errors, so an unfinished string
// or long bracket simply ends at the end of its line or of the source.

#include <string>
#include <string_view>
#include <vector>

namespace rfq::lua {

enum class TokenKind { Name, Keyword, Number, String, Symbol };

struct Token {
  TokenKind kind;
  std::string text;  // the lexeme as written (a string keeps its quotes or brackets)
  int line;          // 1-based line where the token starts
};

std::vector<Token> scan_lua(std::string_view source);

}  // namespace rfq::lua
